import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS, createApiMetrics } from './metrics.js';

type Observation = [method: string, route: string, status: number, seconds: number];

/** The request metrics as plain prom-client calls, one observe() and one inc() per request. */
function reference() {
  const registry = new Registry();
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
  const inFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests received and not yet answered (or abandoned).',
    registers: [registry],
  });
  const observe = ([method, route, status, seconds]: Observation): void => {
    const labels = { method, route, status_code: status };
    duration.observe(labels, seconds);
    total.inc(labels);
  };
  return { registry, duration, total, inFlight, observe };
}

/** Values on, between, under and past the bucket bounds, over several series, first seen in turn. */
const OBSERVATIONS: Observation[] = [
  ['GET', '/hello/:username', 200, 0.0003],
  ['GET', '/hello/:username', 200, 0.0005],
  ['PUT', '/hello/:username', 204, 0.0011],
  ['GET', '/hello/:username', 404, 0.002],
  ['GET', '/hello/:username', 200, 0.0123],
  ['GET', 'unmatched', 404, 0.00071],
  ['GET', '/hello/:username', 499, 2.5],
  ['PUT', '/hello/:username', 204, 3.75],
  ['HEAD', '/healthz', 200, 0.1],
  ['GET', '/hello/:username', 200, 1e-7],
  ['PUT', '/hello/:username', 400, 0.3],
  ['GET', '/hello/:username', 200, 0.0031],
];

function withoutProcessMetrics(): Registry {
  return new Registry();
}

describe('request metrics', () => {
  it('expose exactly what plain prom-client calls expose for the same requests', async () => {
    const ref = reference();
    const metrics = createApiMetrics(withoutProcessMetrics());
    for (let round = 0; round < 3; round++) {
      for (const o of OBSERVATIONS) {
        ref.inFlight.inc();
        metrics.requestStarted();
        ref.inFlight.dec();
        metrics.observeRequest(...o);
        ref.observe(o);
      }
      ref.inFlight.inc(2); // two still in flight
      metrics.requestStarted();
      metrics.requestStarted();
      const mine = await metrics.registry.metrics();
      const theirs = await ref.registry.metrics();
      // The API's registry has two more metrics (storage errors, chaos); the request ones are identical.
      for (const name of [
        'http_request_duration_seconds',
        'http_requests_total',
        'http_requests_in_flight',
      ]) {
        expect(await metrics.registry.getSingleMetricAsString(name)).toBe(
          await ref.registry.getSingleMetricAsString(name),
        );
      }
      expect(mine).toContain(theirs.trimEnd().split('\n\n')[0]);
      expect(mine).toContain('http_requests_total{method="PUT",route="/hello/:username",status_code="204"}');
      expect(JSON.stringify(await metrics.registry.getMetricsAsJSON())).toContain(
        JSON.stringify(await ref.registry.getMetricsAsJSON()).slice(1, -1),
      );
    }
    expect(await metrics.registry.getSingleMetricAsString('http_requests_in_flight')).toBe(
      '# HELP http_requests_in_flight Requests received and not yet answered (or abandoned).\n' +
        '# TYPE http_requests_in_flight gauge\nhttp_requests_in_flight 6',
    );
  });

  it('reject a duration that is not a number, as prom-client does', () => {
    const metrics = createApiMetrics(withoutProcessMetrics());
    expect(() => {
      metrics.observeRequest('GET', '/hello/:username', 200, Number.NaN);
    }).toThrow(/not a valid number/);
  });
});

describe('hello_redis_mode_info', () => {
  it('names the one Redis mode in use, and only the latest', async () => {
    const metrics = createApiMetrics();
    metrics.redisMode({ topology: 'standalone', tls: false });
    metrics.redisMode({ topology: 'cluster', tls: true });
    const text = await metrics.registry.metrics();
    expect(text.split('\n').filter((line) => line.startsWith('hello_redis_mode_info'))).toEqual([
      'hello_redis_mode_info{topology="cluster",tls="true"} 1',
    ]);
  });
});
