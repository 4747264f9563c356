/**
 * Pure helpers of the operator benchmark: reading Prometheus text, summing API server requests by
 * verb, histogram quantiles, percentiles and the result table. No I/O.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments and malformed lines skipped). */
export function parseProm(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] ?? ''] = pair[2] ?? '';
    }
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sum(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

export const WRITE_VERBS = ['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION'];
export const READ_VERBS = ['GET', 'LIST', 'WATCH'];

/** The resources the operator reads or writes (its children, HelloWorlds, Events). */
export const OPERATOR_RESOURCES = new Set([
  'helloworlds',
  'deployments',
  'replicasets',
  'pods',
  'services',
  'secrets',
  'statefulsets',
  'networkpolicies',
  'poddisruptionbudgets',
  'horizontalpodautoscalers',
  'events',
]);

/** API server requests by verb (`apiserver_request_total`) on the operator's resources. */
export function requestsByVerb(samples: Sample[]): Map<string, number> {
  const byVerb = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== 'apiserver_request_total') continue;
    if (!OPERATOR_RESOURCES.has(s.labels.resource ?? '')) continue;
    const verb = s.labels.verb ?? '';
    byVerb.set(verb, (byVerb.get(verb) ?? 0) + s.value);
  }
  return byVerb;
}

/** The operator's `helloworld_kube_writes_total` by `verb kind` (e.g. `apply Deployment`). */
export function writesByKind(samples: Sample[]): Map<string, number> {
  const byKind = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== 'helloworld_kube_writes_total') continue;
    const key = `${s.labels.verb ?? ''} ${s.labels.kind ?? ''}`;
    byKind.set(key, (byKind.get(key) ?? 0) + s.value);
  }
  return byKind;
}

/** `after - before`, per key. */
export function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const result = new Map<string, number>();
  for (const [key, value] of after) result.set(key, value - (before.get(key) ?? 0));
  return result;
}

export function total(counts: Map<string, number>, keys: string[]): number {
  return keys.reduce((acc, key) => acc + (counts.get(key) ?? 0), 0);
}

/** `APPLY 2100, POST 300` — the non-zero verbs among `keys`, largest first. */
export function describeVerbs(counts: Map<string, number>, keys: string[]): string {
  const parts = keys
    .map((key) => [key, Math.round(counts.get(key) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key} ${String(n)}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

/**
 * The `q` quantile of a Prometheus histogram, interpolated within its bucket like PromQL's
 * histogram_quantile. `samples` may be a difference of two scrapes (see `histogramDelta`).
 */
export function histogramQuantile(buckets: { le: number; count: number }[], q: number): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const count = sorted.at(-1)?.count ?? 0;
  if (count === 0) return Number.NaN;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const { le, count: cumulative } of sorted) {
    if (cumulative >= rank) {
      if (le === Infinity) return lower;
      const inBucket = cumulative - below;
      return inBucket === 0 ? le : lower + ((le - lower) * (rank - below)) / inBucket;
    }
    lower = le;
    below = cumulative;
  }
  return lower;
}

/** The cumulative buckets of histogram `name`, `after - before`. */
export function histogramDelta(
  after: Sample[],
  before: Sample[],
  name: string,
): { le: number; count: number }[] {
  const buckets = (samples: Sample[]): Map<string, number> => {
    const map = new Map<string, number>();
    for (const s of samples) if (s.name === `${name}_bucket`) map.set(s.labels.le ?? '', s.value);
    return map;
  };
  const b = buckets(before);
  return [...buckets(after)].map(([le, count]) => ({
    le: le === '+Inf' ? Infinity : Number(le),
    count: count - (b.get(le) ?? 0),
  }));
}

/** Nearest-rank percentile of `values` (0 < p <= 100). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export const seconds = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
export const ratio = (a: number, b: number): string => (b === 0 ? 'n/a' : `${(a / b).toFixed(2)}×`);
export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** A two-column text table: a header row, then `[label, value]` rows; `['', '']` is a rule. */
export function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  return rows
    .map(([label, value]) =>
      label === '' ? `${'-'.repeat(width)}-+-${'-'.repeat(valueWidth)}` : `${label.padEnd(width)} | ${value}`,
    )
    .join('\n');
}
