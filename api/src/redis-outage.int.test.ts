// Redis going away mid-test: fast 503s, readiness 503, and recovery without a restart.
import request from 'supertest';
import { createLogger } from '#common/logger.js';
import { startRedis, type RedisHandle } from '../../test/support/redis.js';
import { createApp } from './app.js';
import { parseRedisUrl } from './config.js';
import { createApiMetrics, type ApiMetrics } from './metrics.js';
import { createRedisStore, type BirthdayStore } from './store.js';

/** Exactly { "error": "<non-empty sentence>" }. */
function expectErrorShape(body: unknown): void {
  expect(typeof body === 'object' && body !== null ? Object.keys(body) : body).toEqual(['error']);
  expect(typeof (body as { error: unknown }).error).toBe('string');
}

// A generous contract bound, not a performance measurement: "fails fast" means well under a second.
const FAST_MS = 1000;

let redis: RedisHandle;
let store: BirthdayStore;
let metrics: ApiMetrics;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  redis = await startRedis();
  store = createRedisStore({
    target: parseRedisUrl(redis.url, undefined),
    commandTimeoutMs: 250,
    logger: createLogger('test', 'silent'),
    maxReconnectDelayMs: 200,
  });
  metrics = createApiMetrics();
  app = createApp({
    store,
    metrics,
    logger: createLogger('test', 'silent'),
    readiness: { shuttingDown: false },
  });
  await eventually(async () => {
    await request(app).get('/readyz').expect(200);
  });
});

afterAll(async () => {
  redis.resume();
  await store.close();
  await redis.stop();
});

async function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function timed(run: () => Promise<request.Response>): Promise<{ res: request.Response; ms: number }> {
  const started = performance.now();
  const res = await run();
  return { res, ms: performance.now() - started };
}

function expect503(res: request.Response): void {
  expect(res.status).toBe(503);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expectErrorShape(res.body);
}

describe('when Redis dies', () => {
  it('answers 503 fast, turns readiness 503, and recovers by itself when Redis returns', async () => {
    await request(app).put('/hello/alice').send({ dateOfBirth: '1990-01-01' }).expect(204);

    await redis.stop();
    for (const run of [
      () => request(app).get('/hello/alice'),
      () => request(app).put('/hello/alice').send({ dateOfBirth: '1990-01-01' }),
      () => request(app).get('/readyz'),
    ]) {
      const { res, ms } = await timed(run);
      expect503(res);
      expect(ms).toBeLessThan(FAST_MS);
    }
    // Liveness does not depend on Redis: restarting the pod would not help.
    await request(app).get('/healthz').expect(200);
    // Validation still answers 400 without touching storage.
    await request(app).put('/hello/alice').send({ dateOfBirth: 'nope' }).expect(400);

    const text = await metrics.registry.metrics();
    expect(text).toMatch(/hello_storage_errors_total\{operation="get"\} [1-9]/);
    expect(text).toMatch(/hello_storage_errors_total\{operation="set"\} [1-9]/);
    expect(text).toMatch(/hello_storage_errors_total\{operation="ping"\} [1-9]/);
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/hello\/:username",status_code="503"\} 1/,
    );

    await redis.restart(); // same port, empty data set
    await eventually(async () => {
      await request(app).get('/readyz').expect(200);
    });
    await request(app).put('/hello/alice').send({ dateOfBirth: '1990-01-01' }).expect(204);
    await request(app).get('/hello/alice').expect(200);
  });
});

describe('when Redis hangs', () => {
  it('times commands out into 503 well under a second, then recovers', async () => {
    await request(app).put('/hello/bob').send({ dateOfBirth: '1990-01-01' }).expect(204);
    redis.pause();
    try {
      for (const run of [() => request(app).get('/hello/bob'), () => request(app).get('/readyz')]) {
        const { res, ms } = await timed(run);
        expect503(res);
        expect(ms).toBeLessThan(FAST_MS);
      }
    } finally {
      redis.resume();
    }
    await eventually(async () => {
      await request(app).get('/hello/bob').expect(200);
      await request(app).get('/readyz').expect(200);
    });
  });
});
