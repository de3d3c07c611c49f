import type { UsageSeries } from '../api/types';

const WIDTH = 84;
const HEIGHT = 24;

/** Seven days of uses as a line: hand-drawn SVG, no chart library for 7 points. */
export function Sparkline({ series, label }: { series: UsageSeries | null; label: string }) {
  if (!series) return <span class="muted">…</span>;
  const counts = series.data.map((point) => point.count);
  const max = Math.max(1, ...counts);
  const step = counts.length > 1 ? WIDTH / (counts.length - 1) : WIDTH;
  const points = counts
    .map((count, index) => `${(index * step).toFixed(1)},${(HEIGHT - 2 - (count / max) * (HEIGHT - 4)).toFixed(1)}`)
    .join(' ');
  const text = `${label}: ${series.total} ${series.total === 1 ? 'use' : 'uses'} in the last 7 days`;
  return (
    <span class="sparkline">
      <svg width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={text}>
        <title>{text}</title>
        {counts.length > 0 && <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />}
      </svg>
      <span class="sparkline-total" aria-hidden="true">
        {series.total}
      </span>
    </span>
  );
}
