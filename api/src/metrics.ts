/** Prometheus metrics of the API, on a registry of its own (no global state, one per app in tests). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry } from '#common/metrics.js';
import type { RedisMode } from './redis-config.js';
import type { StoreOperation } from './store.js';

export interface ApiMetrics {
  readonly registry: Registry;
  /** A request arrived; observeRequest() marks its end. */
  requestStarted(): void;
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void;
  storageError(operation: StoreOperation): void;
  chaosInjected(kind: 'error' | 'latency'): void;
  /** Which Redis the API uses: hello_redis_mode_info{topology,tls} 1. */
  redisMode(mode: RedisMode): void;
}

/** From 0.5 ms up: a healthy request takes a millisecond or two, so resolution matters at the bottom. */
export const DURATION_BUCKETS = [
  0.0005, 0.001, 0.002, 0.004, 0.006, 0.008, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

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
    help: 'Redis operations that failed or timed out (answered 503, 507 for a full store; ping: /healthz/redis).',
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
  const modeInfo = new Gauge({
    name: 'hello_redis_mode_info',
    help: 'The Redis the API is configured for (always 1): topology standalone or cluster, tls true or false.',
    labelNames: ['topology', 'tls'] as const,
    registers: [registry],
  });

  return {
    registry,
    requestStarted: () => {
      requestsInFlight += 1;
    },
    observeRequest(method, route, statusCode, seconds) {
      requestsInFlight -= 1;
      const labels = { method, route, status_code: statusCode };
      duration.observe(labels, seconds);
      total.inc(labels);
    },
    storageError: (operation) => {
      storageErrors.inc({ operation });
    },
    chaosInjected: (kind) => {
      chaos.inc({ kind });
    },
    redisMode: ({ topology, tls }) => {
      modeInfo.reset();
      modeInfo.set({ topology, tls: String(tls) }, 1);
    },
  };
}
