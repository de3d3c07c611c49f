import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { messageOf } from '../api/errors';
import { chatbotScope, USER_KEYS_SCOPE, type ApiKey, type UsageInterval, type UsageSeries } from '../api/types';
import { onLinkClick } from '../router';
import { UsageChart } from '../usage/usage-chart';
import { fetchUsage, USAGE_RANGES, type UsageRangeId } from '../usage/usage-api';

/** One key's uses over a chosen range, per minute, hour or day. */
export function KeyUsagePage({ api, chatbotId, keyId }: { api: ApiClient; chatbotId: string | null; keyId: string }) {
  const scope = chatbotId === null ? USER_KEYS_SCOPE : chatbotScope(chatbotId);
  const keyPath = `${scope.apiPath}/${encodeURIComponent(keyId)}`;
  const [apiKey, setApiKey] = useState<ApiKey | null>(null);
  const [rangeId, setRangeId] = useState<UsageRangeId>('24h');
  const [interval, setInterval] = useState<UsageInterval>('hour');
  const [series, setSeries] = useState<UsageSeries | null>(null);
  const [error, setError] = useState<string | null>(null);
  const range = USAGE_RANGES.find((candidate) => candidate.id === rangeId)!;

  useEffect(() => {
    api.get<{ data: ApiKey[] }>(scope.apiPath).then(
      ({ data }) => setApiKey(data.find((key) => key.id === keyId) ?? null),
      () => undefined,
    );
  }, [api, scope.apiPath, keyId]);
  useEffect(() => {
    setSeries(null);
    setError(null);
    fetchUsage(api, keyPath, range.ms, interval).then(setSeries, (caught) => setError(messageOf(caught)));
  }, [api, keyPath, rangeId, interval]);

  const chooseRange = (id: UsageRangeId) => {
    const next = USAGE_RANGES.find((candidate) => candidate.id === id)!;
    setRangeId(id);
    // Keep the interval when the new range allows it, otherwise take the finest it allows.
    if (!(next.intervals as readonly UsageInterval[]).includes(interval)) setInterval(next.intervals[0]);
  };
  const peak = series ? Math.max(0, ...series.data.map((point) => point.count)) : 0;
  return (
    <main id="main">
      <a href={scope.pagePath} onClick={onLinkClick} class="back">
        ← Back to keys
      </a>
      <h1>Usage of {apiKey ? `“${apiKey.name}”` : 'key'}</h1>
      {apiKey?.prefix && (
        <p class="muted">
          <code>{apiKey.prefix}…</code>
        </p>
      )}
      <div class="controls">
        <label>
          Range
          <select value={rangeId} onChange={(event) => chooseRange(event.currentTarget.value as UsageRangeId)}>
            {USAGE_RANGES.map((option) => (
              <option key={option.id} value={option.id}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <fieldset class="segmented">
          <legend>Per</legend>
          {(['minute', 'hour', 'day'] as const).map((option) => (
            <label key={option} class={(range.intervals as readonly string[]).includes(option) ? '' : 'disabled'}>
              <input
                type="radio"
                name="interval"
                value={option}
                checked={interval === option}
                disabled={!(range.intervals as readonly string[]).includes(option)}
                onChange={() => setInterval(option)}
              />
              {option}
            </label>
          ))}
        </fieldset>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!series && !error && <p class="muted">Loading usage…</p>}
      {series && (
        <>
          <dl class="totals">
            <div>
              <dt>Total uses</dt>
              <dd data-testid="usage-total">{series.total}</dd>
            </div>
            <div>
              <dt>Busiest {interval}</dt>
              <dd>{peak}</dd>
            </div>
            <div>
              <dt>Last used</dt>
              <dd>{apiKey?.lastUsedAt ? new Date(apiKey.lastUsedAt).toLocaleString() : 'Never'}</dd>
            </div>
          </dl>
          <UsageChart series={series} interval={interval} />
        </>
      )}
    </main>
  );
}
