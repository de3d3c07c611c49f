// Percentiles from a full sample (sorted array, nearest rank, as HdrHistogram reports them) and medians.

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const ms = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/**
 * Percentiles of what a Prometheus histogram counted between two scrapes, as the upper bound of
 * the bucket the rank falls in (a histogram knows no more than that), in milliseconds. `only`
 * picks the series (by its label text) when the histogram has labels besides `le`.
 */
export function histogramPercentiles(before, after, percents, only = () => true) {
  const buckets = Object.keys(after)
    .filter(only)
    .map((labels) => ({ le: Number(/le="([^"]+)"/.exec(labels)[1]), count: after[labels] - (before[labels] ?? 0) }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  const result = { samples: total };
  for (const p of percents) {
    const rank = Math.ceil((p / 100) * total);
    const bucket = buckets.find((b) => b.count >= rank);
    result[`p${p}`] = bucket ? bucket.le * 1000 : NaN;
  }
  return result;
}
