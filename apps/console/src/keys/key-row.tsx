import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { messageOf } from '../api/errors';
import type { ApiKey, UsageSeries } from '../api/types';
import { dateOnly, exactTime, timeAgo } from '../format/time';
import { onLinkClick } from '../router';
import { Sparkline } from '../usage/sparkline';

interface KeyRowProps {
  api: ApiClient;
  apiKey: ApiKey;
  keyPath: string;
  usagePagePath: string;
  week: UsageSeries | null;
  onRenamed: (key: ApiKey) => void;
  onRevoke: (key: ApiKey) => void;
}

/** One key: its facts, then its actions. Lifecycle actions (disable, roll, expiry) join `KeyActions`. */
export function KeyRow(props: KeyRowProps) {
  const { apiKey } = props;
  const [renaming, setRenaming] = useState(false);
  const nameId = `key-name-${apiKey.id}`;
  return (
    <tr>
      <th scope="row" id={nameId} class="key-name">
        {renaming ? <RenameField {...props} onDone={() => setRenaming(false)} /> : apiKey.name}
      </th>
      <td data-label="Prefix">{apiKey.prefix ? <code>{apiKey.prefix}…</code> : <span class="muted">imported</span>}</td>
      <td data-label="Created">
        <time dateTime={apiKey.createdAt} title={exactTime(apiKey.createdAt)}>
          {dateOnly(apiKey.createdAt)}
        </time>
        <span class="muted small" title={`Created by user ${apiKey.createdBy}`}>
          {' '}
          by {shortId(apiKey.createdBy)}
        </span>
      </td>
      <td data-label="Last used">
        {apiKey.lastUsedAt ? (
          <time dateTime={apiKey.lastUsedAt} title={exactTime(apiKey.lastUsedAt)}>
            {timeAgo(apiKey.lastUsedAt)}
          </time>
        ) : (
          <span class="muted">Never</span>
        )}
      </td>
      <td data-label="Status">
        <StatusBadge apiKey={apiKey} />
      </td>
      <td data-label="Last 7 days">
        <Sparkline series={props.week} label={apiKey.name} />
      </td>
      <td class="row-actions">
        <div>{!renaming && <KeyActions {...props} nameId={nameId} onRename={() => setRenaming(true)} />}</div>
      </td>
    </tr>
  );
}

function KeyActions(props: KeyRowProps & { nameId: string; onRename: () => void }) {
  return (
    <>
      <a href={props.usagePagePath} onClick={onLinkClick} class="button secondary" aria-describedby={props.nameId}>
        Usage
      </a>
      <button type="button" class="secondary" aria-describedby={props.nameId} onClick={props.onRename}>
        Rename
      </button>
      <button type="button" class="danger-outline" aria-describedby={props.nameId} onClick={() => props.onRevoke(props.apiKey)}>
        Revoke
      </button>
    </>
  );
}

function StatusBadge({ apiKey }: { apiKey: ApiKey }) {
  const status = apiKey.status ?? 'active';
  const label = { active: 'Active', disabled: 'Disabled', expired: 'Expired' }[status] ?? status;
  return <span class={`badge status-${status}`}>{label}</span>;
}

function RenameField(props: KeyRowProps & { onDone: () => void }) {
  const [name, setName] = useState(props.apiKey.name);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  const save = async (event: Event) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return setError('A name needs at least one character.');
    if (trimmed === props.apiKey.name) return props.onDone();
    setBusy(true);
    try {
      props.onRenamed(await props.api.patch<ApiKey>(props.keyPath, { name: trimmed }));
      props.onDone();
    } catch (caught) {
      setError(messageOf(caught));
      setBusy(false);
    }
  };
  return (
    <form class="rename" onSubmit={(event) => void save(event)} onKeyDown={(event) => event.key === 'Escape' && props.onDone()}>
      <label class="sr-only" for={`rename-${props.apiKey.id}`}>
        New name for {props.apiKey.name}
      </label>
      <input
        id={`rename-${props.apiKey.id}`}
        ref={input}
        value={name}
        maxLength={64}
        onInput={(event) => setName(event.currentTarget.value)}
      />
      <button type="submit" disabled={busy}>
        Save
      </button>
      <button type="button" class="secondary" onClick={props.onDone}>
        Cancel
      </button>
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

function shortId(id: string): string {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}
