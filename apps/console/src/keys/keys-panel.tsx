import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { messageOf, plainWords } from '../api/errors';
import type { ApiKey, CreatedKey, KeyScope, UsageSeries } from '../api/types';
import { fetchWeek } from '../usage/usage-api';
import { CreateKeyDialog } from './create-key-dialog';
import { KeyRow } from './key-row';
import { RevealKeyDialog } from './reveal-key-dialog';
import { RevokeKeyDialog } from './revoke-key-dialog';

type Open = { dialog: 'create' } | { dialog: 'reveal'; created: CreatedKey } | { dialog: 'revoke'; key: ApiKey } | null;

/** A set of keys (a chatbot's, or the account's user-level keys) with every action on them. */
export function KeysPanel({ api, scope, intro }: { api: ApiClient; scope: KeyScope; intro: string }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [weeks, setWeeks] = useState<Record<string, UsageSeries>>({});
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState('');
  const [planRefused, setPlanRefused] = useState(false);

  const load = async () => {
    try {
      const { data } = await api.get<{ data: ApiKey[] }>(scope.apiPath);
      setKeys(data);
      setLoadError(null);
      const entries = await Promise.all(data.map(async (key) => [key.id, await fetchWeek(api, keyPath(key)).catch(() => null)] as const));
      setWeeks(Object.fromEntries(entries.filter((entry): entry is [string, UsageSeries] => entry[1] !== null)));
    } catch (caught) {
      setLoadError(messageOf(caught));
    }
  };
  useEffect(() => {
    setKeys(null);
    void load();
  }, [scope.apiPath]);

  const keyPath = (key: ApiKey) => `${scope.apiPath}/${encodeURIComponent(key.id)}`;
  const count = keys?.length ?? 0;
  const full = scope.limit !== null && count >= scope.limit;
  const reason = planRefused
    ? plainWords('plan_not_eligible', '')
    : full
      ? `This chatbot has ${scope.limit} active keys, the most allowed. Revoke a key to create a new one.`
      : null;

  return (
    <section aria-labelledby="keys-heading">
      <div class="section-head">
        <div>
          <h1 id="keys-heading">{scope.kind === 'chatbot' ? 'API Keys' : 'User-level API keys'}</h1>
          <p class="hint">{intro}</p>
        </div>
        <div class="create">
          {scope.limit !== null && keys && (
            <span class="counter" aria-live="polite">
              {count} of {scope.limit}
            </span>
          )}
          <button
            type="button"
            disabled={!keys || Boolean(reason)}
            aria-describedby={reason ? 'create-reason' : undefined}
            onClick={() => setOpen({ dialog: 'create' })}
          >
            Create new key
          </button>
        </div>
      </div>
      {reason && (
        <p id="create-reason" class="notice">
          {reason}
        </p>
      )}
      <p role="status" class="notice-ok" aria-live="polite">
        {notice}
      </p>
      {loadError && (
        <p class="error" role="alert">
          {loadError}
        </p>
      )}
      {keys === null && !loadError && <p class="muted">Loading keys…</p>}
      {keys && keys.length === 0 && (
        <div class="empty">
          <p>No keys yet.</p>
          <p class="hint">Create a key to let an app or integration call this {scope.kind === 'chatbot' ? 'chatbot' : 'account'}’s API.</p>
        </div>
      )}
      {keys && keys.length > 0 && (
        <div class="table-wrap">
          <table class="keys">
            <caption class="sr-only">Active keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">Last 7 days</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <KeyRow
                  key={key.id}
                  api={api}
                  apiKey={key}
                  keyPath={keyPath(key)}
                  usagePagePath={`${scope.pagePath}/${encodeURIComponent(key.id)}/usage`}
                  week={weeks[key.id] ?? null}
                  onRenamed={(renamed) => {
                    setKeys((current) => current?.map((item) => (item.id === renamed.id ? renamed : item)) ?? null);
                    setNotice(`Renamed to “${renamed.name}”.`);
                  }}
                  onRevoke={(target) => setOpen({ dialog: 'revoke', key: target })}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open?.dialog === 'create' && (
        <CreateKeyDialog
          api={api}
          scope={scope}
          onClose={() => setOpen(null)}
          onRefused={(code) => {
            if (code === 'plan_not_eligible') {
              setPlanRefused(true);
              setOpen(null);
            }
            if (code === 'key_limit_reached') void load();
          }}
          onCreated={(created) => {
            const { key: _secret, ...view } = created;
            setKeys((current) => [view, ...(current ?? [])]);
            setOpen({ dialog: 'reveal', created });
          }}
        />
      )}
      {open?.dialog === 'reveal' && (
        <RevealKeyDialog
          created={open.created}
          onDone={() => {
            setOpen(null);
            setNotice(`Key “${open.created.name}” created.`);
          }}
        />
      )}
      {open?.dialog === 'revoke' && (
        <RevokeKeyDialog
          api={api}
          apiKey={open.key}
          keyPath={keyPath(open.key)}
          onClose={() => setOpen(null)}
          onRevoked={() => {
            setKeys((current) => current?.filter((item) => item.id !== open.key.id) ?? null);
            setOpen(null);
            setNotice(`Key “${open.key.name}” revoked. It no longer works.`);
          }}
        />
      )}
    </section>
  );
}
