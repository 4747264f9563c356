/** Prometheus metrics of the API, on a registry of its own (no global state, one per app in tests). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry } from '#common/metrics.js';
import type { StoreOperation } from './store.js';

export interface ApiMetrics {
  readonly registry: Registry;
  /** A request arrived; observeRequest() marks its end. */
  requestStarted(): void;
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void;
  storageError(operation: StoreOperation): void;
  chaosInjected(kind: 'error' | 'latency'): void;
}

/** From 0.5 ms up: a healthy request takes a millisecond or two, so resolution matters at the bottom. */
export const DURATION_BUCKETS = [
  0.0005, 0.001, 0.002, 0.004, 0.006, 0.008, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * Distinct (method, route, status) series whose prom-client records are kept at hand. Every label is
 * bounded already (Node's parser accepts a fixed list of methods, the route is a template or
 * "unmatched", status codes are three digits), so a real server sees a few dozen; the bound only keeps
 * memory fixed if that ever stops being true. Series past it are still recorded, through prom-client's
 * own (slower) calls.
 */
export const MAX_CACHED_SERIES = 512;

type RequestLabels = { method: string; route: string; status_code: number };

/** prom-client 15's record of one histogram series, and of one counter series. */
interface HistogramRecord {
  labels: object;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}
interface CounterRecord {
  labels: object;
  value: number;
}

/** One series, with direct references to the records prom-client keeps and exports. */
interface CachedSeries {
  readonly duration: HistogramRecord;
  readonly total: CounterRecord;
}

/** prom-client's per-metric store: label hash to record (not in its typings). */
function recordsOf(metric: object): Record<string, unknown> | undefined {
  const { hashMap } = metric as { hashMap?: unknown };
  return typeof hashMap === 'object' && hashMap !== null ? (hashMap as Record<string, unknown>) : undefined;
}

/** The record of one series (at series creation only: a walk through all of them). */
function findRecord(metric: object, method: string, route: string, statusCode: number): unknown {
  return Object.values(recordsOf(metric) ?? {}).find((r) => {
    const labels = (r as { labels?: Partial<RequestLabels> } | null)?.labels;
    return labels?.method === method && labels.route === route && labels.status_code === statusCode;
  });
}

function isHistogramRecord(r: unknown): r is HistogramRecord {
  const { bucketValues, sum, count } = (r ?? {}) as Partial<HistogramRecord>;
  return typeof bucketValues === 'object' && typeof sum === 'number' && typeof count === 'number';
}

function isCounterRecord(r: unknown): r is CounterRecord {
  return typeof (r as Partial<CounterRecord> | undefined)?.value === 'number';
}

/**
 * The request histogram and counter, recorded exactly as prom-client records them, without its
 * per-call work. prom-client's observe() and inc() validate the label names and build a string key
 * from the labels on every call, and its labelled children (histogram.labels(...)) do the same on
 * every call, so caching them saves nothing. This cache keeps, per series, the records prom-client
 * itself exports and updates them as its observe() and inc() do (the same bucket, sum, count and
 * value, in the same order), so /metrics is unchanged. A series is created through prom-client's
 * public calls (zero(), inc(labels, 0)); if its records cannot be found, or prom-client replaced its
 * store (reset()), the cache steps aside or starts over.
 */
export class RequestSeries {
  readonly #duration: Histogram<keyof RequestLabels>;
  readonly #total: Counter<keyof RequestLabels>;
  readonly #bounds: readonly number[];
  readonly #maxSeries: number;
  /** method, then route, then status code: no key string to build per request. */
  #cache = new Map<string, Map<string, Map<number, CachedSeries>>>();
  #size = 0;
  #durationStore: unknown;
  #totalStore: unknown;

  constructor(
    duration: Histogram<keyof RequestLabels>,
    total: Counter<keyof RequestLabels>,
    bounds: readonly number[],
    maxSeries = MAX_CACHED_SERIES,
  ) {
    this.#duration = duration;
    this.#total = total;
    this.#bounds = bounds;
    this.#maxSeries = maxSeries;
  }

  /** The number of series held. */
  get size(): number {
    return this.#size;
  }

  observe(method: string, route: string, statusCode: number, seconds: number): void {
    if (recordsOf(this.#duration) !== this.#durationStore || recordsOf(this.#total) !== this.#totalStore) {
      this.#cache = new Map();
      this.#size = 0;
      this.#durationStore = recordsOf(this.#duration);
      this.#totalStore = recordsOf(this.#total);
    }
    const series = Number.isFinite(seconds)
      ? (this.#cache.get(method)?.get(route)?.get(statusCode) ?? this.#add(method, route, statusCode))
      : undefined;
    if (series === undefined) {
      // prom-client's own calls (a non-finite value throws there, as it always did).
      const labels = { method, route, status_code: statusCode };
      this.#duration.observe(labels, seconds);
      this.#total.inc(labels);
      return;
    }
    // As prom-client's observe(): the first bucket whose upper bound is >= the value, none past the last.
    const { duration, total } = series;
    for (const bound of this.#bounds) {
      if (seconds <= bound) {
        duration.bucketValues[bound] = (duration.bucketValues[bound] ?? 0) + 1;
        break;
      }
    }
    duration.sum += seconds;
    duration.count += 1;
    total.value += 1;
  }

  #add(method: string, route: string, statusCode: number): CachedSeries | undefined {
    if (this.#size >= this.#maxSeries) return undefined;
    const labels: RequestLabels = { method, route, status_code: statusCode };
    // Series past the bound are recorded by prom-client alone; one found there now may have counts.
    if (findRecord(this.#duration, method, route, statusCode) === undefined) this.#duration.zero(labels);
    this.#total.inc(labels, 0); // creates the counter's record at 0, or adds nothing to it
    const duration = findRecord(this.#duration, method, route, statusCode);
    const total = findRecord(this.#total, method, route, statusCode);
    if (!isHistogramRecord(duration) || !isCounterRecord(total)) return undefined;
    const series = { duration, total };
    let routes = this.#cache.get(method);
    if (!routes) this.#cache.set(method, (routes = new Map<string, Map<number, CachedSeries>>()));
    let statuses = routes.get(route);
    if (!statuses) routes.set(route, (statuses = new Map<number, CachedSeries>()));
    statuses.set(statusCode, series);
    this.#size += 1;
    return series;
  }
}

export function createApiMetrics(registry: Registry = createRegistry()): ApiMetrics {
  const labelNames = ['method', 'route', 'status_code'] as const;
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response, by route template.',
    labelNames,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const total = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route template.',
    labelNames,
    registers: [registry],
  });
  // A plain number per request; the gauge reads it when scraped.
  let requestsInFlight = 0;
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests received and not yet answered (or abandoned).',
    registers: [registry],
    collect() {
      this.set(requestsInFlight);
    },
  });
  const storageErrors = new Counter({
    name: 'hello_storage_errors_total',
    help: 'Redis operations that failed or timed out (each answered 503, or readiness 503 for ping).',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const chaos = new Counter({
    name: 'hello_chaos_injected_total',
    help: 'Faults injected by CHAOS_ERROR_RATE and CHAOS_LATENCY_MS.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  for (const operation of ['get', 'set', 'ping'] as const) storageErrors.inc({ operation }, 0);
  const requests = new RequestSeries(duration, total, DURATION_BUCKETS);

  return {
    registry,
    requestStarted: () => {
      requestsInFlight += 1;
    },
    observeRequest(method, route, statusCode, seconds) {
      requestsInFlight -= 1;
      requests.observe(method, route, statusCode, seconds);
    },
    storageError: (operation) => {
      storageErrors.inc({ operation });
    },
    chaosInjected: (kind) => {
      chaos.inc({ kind });
    },
  };
}
