import type { UsageInterval, UsageSeries } from '../api/types';

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { top: 12, right: 8, bottom: 28, left: 44 };

const LABELS: Record<UsageInterval, Intl.DateTimeFormat> = {
  minute: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }),
  hour: new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit' }),
  day: new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' }),
};

/**
 * A bar chart in plain SVG. A charting library (even a small one such as uPlot, ~20 KB gzipped)
 * would more than double the console's script for one bar chart; this is about 1 KB, scales
 * with the viewBox, and the same numbers are offered as a table for screen readers.
 */
export function UsageChart({ series, interval }: { series: UsageSeries; interval: UsageInterval }) {
  const points = series.data;
  const max = niceMax(Math.max(0, ...points.map((point) => point.count)));
  const innerWidth = WIDTH - PAD.left - PAD.right;
  const innerHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerWidth / Math.max(1, points.length);
  const barWidth = Math.max(1, slot * 0.8);
  const labelEvery = Math.max(1, Math.ceil(points.length / 6));
  const y = (count: number) => PAD.top + innerHeight - (count / max) * innerHeight;
  const summary = `Uses per ${interval}: ${series.total} in total, at most ${Math.max(0, ...points.map((point) => point.count))} in one ${interval}.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
        {[0, 0.5, 1].map((fraction) => (
          <g key={fraction}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(max * fraction)} y2={y(max * fraction)} class="grid" />
            <text x={PAD.left - 6} y={y(max * fraction) + 4} text-anchor="end" class="axis">
              {Math.round(max * fraction)}
            </text>
          </g>
        ))}
        {points.map((point, index) => (
          <rect
            key={point.start}
            x={PAD.left + index * slot + (slot - barWidth) / 2}
            y={y(point.count)}
            width={barWidth}
            height={Math.max(0, PAD.top + innerHeight - y(point.count))}
            class="bar"
          >
            <title>{`${LABELS[interval].format(new Date(point.start))}: ${point.count}`}</title>
          </rect>
        ))}
        {points.map((point, index) =>
          index % labelEvery === 0 ? (
            <text key={`label-${point.start}`} x={PAD.left + index * slot + slot / 2} y={HEIGHT - 8} text-anchor="middle" class="axis">
              {LABELS[interval].format(new Date(point.start))}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption class="sr-only">{summary}</figcaption>
    </figure>
  );
}

function niceMax(value: number): number {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value)!;
}
