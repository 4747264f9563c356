// Redis going away mid-test: fast 503s while readiness stays 200 (every pod shares this Redis, so an
// unready pod would only turn the 503 into a refused connection), and recovery without a restart.
// Redis at its memory limit (maxmemory, noeviction): writes answer 507, and nothing saved is lost.
import { Redis } from 'ioredis';
import request from 'supertest';
import { appOnRedis } from '../../test/support/api-app.js';
import { waitFor } from '../../test/support/cluster.js';
import { startRedis, type RedisHandle } from '../../test/support/redis.js';
import type { createApp } from './app.js';
import type { ApiMetrics } from './metrics.js';
import { KEY_PREFIX, type BirthdayStore } from './store.js';

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
  ({ app, store, metrics } = appOnRedis(redis.url));
  await until200(app, '/healthz/redis');
});

afterAll(async () => {
  redis.resume();
  await store.close();
  await redis.stop();
});

/** Until `path` answers 200 (Redis back, or the store reconnected). */
const until200 = (target: typeof app, path: string): Promise<true> =>
  waitFor(async () => (await request(target).get(path)).status === 200 || undefined, {
    describe: `GET ${path} to answer 200`,
    timeoutMs: 15_000,
    intervalMs: 50,
  });

async function timed(run: () => Promise<request.Response>): Promise<{ res: request.Response; ms: number }> {
  const started = performance.now();
  const res = await run();
  return { res, ms: performance.now() - started };
}

function expectJsonError(res: request.Response): void {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expectErrorShape(res.body);
}

function expect503(res: request.Response): void {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('1');
}

describe('when Redis dies', () => {
  it('answers 503 fast, stays ready, and recovers by itself when Redis returns', async () => {
    await request(app).put('/hello/alice').send({ dateOfBirth: '1990-01-01' }).expect(204);

    await redis.stop();
    for (const run of [
      () => request(app).get('/hello/alice'),
      () => request(app).put('/hello/alice').send({ dateOfBirth: '1990-01-01' }),
    ]) {
      const { res, ms } = await timed(run);
      expectJsonError(res);
      expect503(res);
      expect((res.body as { error: string }).error).toMatch(/storage service is unavailable/);
      expect(ms).toBeLessThan(FAST_MS);
    }
    // Readiness and liveness do not depend on Redis: the pod stays in the Service and keeps answering.
    expect((await request(app).get('/readyz').expect(200)).body).toEqual({
      status: 'ready',
      redisMode: { topology: 'standalone', tls: false },
    });
    await request(app).get('/healthz').expect(200);
    // The diagnostic endpoint says what is wrong, within the same bound.
    const { res: diagnosis, ms } = await timed(() => request(app).get('/healthz/redis'));
    expect(diagnosis.status).toBe(503);
    expectJsonError(diagnosis);
    expect((diagnosis.body as { error: string }).error).toMatch(/Redis/);
    expect(ms).toBeLessThan(FAST_MS);
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
    await until200(app, '/healthz/redis');
    await request(app).put('/hello/alice').send({ dateOfBirth: '1990-01-01' }).expect(204);
    await request(app).get('/hello/alice').expect(200);
  });
});

describe('when Redis hangs', () => {
  it('times commands out into 503 well under a second while staying ready, then recovers', async () => {
    await request(app).put('/hello/bob').send({ dateOfBirth: '1990-01-01' }).expect(204);
    redis.pause();
    try {
      for (const run of [() => request(app).get('/hello/bob'), () => request(app).get('/healthz/redis')]) {
        const { res, ms } = await timed(run);
        expectJsonError(res);
        expect(res.status).toBe(503);
        expect(ms).toBeLessThan(FAST_MS);
      }
      await request(app).get('/readyz').expect(200);
    } finally {
      redis.resume();
    }
    await until200(app, '/hello/bob');
  });
});

describe('when Redis is at its memory limit (maxmemory with noeviction)', () => {
  let full: RedisHandle;
  let fullStore: BirthdayStore;
  let fullApp: ReturnType<typeof createApp>;

  beforeAll(async () => {
    // Tiny, as the operator sets it from the container's memory limit; noeviction: refuse, never evict.
    full = await startRedis({ args: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction'] });
    ({ app: fullApp, store: fullStore } = appOnRedis(full.url, 1000));
    await until200(fullApp, '/healthz/redis');
  });

  afterAll(async () => {
    await fullStore.close();
    await full.stop();
  });

  it('answers 507 with a clear message, keeps what was saved, and stays ready', async () => {
    const users = ['alice', 'bob', 'carol'];
    for (const user of users) {
      await request(fullApp).put(`/hello/${user}`).send({ dateOfBirth: '1990-01-01' }).expect(204);
    }
    // Fill the rest of the memory from another client, as other users' writes would: large values,
    // then ever smaller ones (Redis counts a command's own arguments), until even a tiny write is refused.
    const filler = new Redis(full.url);
    let fillers = 0;
    try {
      for (const size of [64 * 1024, 1024, 16]) {
        for (;;) {
          try {
            await filler.set(`filler:${fillers}`, 'x'.repeat(size));
            fillers += 1;
          } catch (err) {
            expect(String(err)).toMatch(/OOM/);
            break;
          }
          if (fillers > 100_000) throw new Error('Redis never refused a write: maxmemory is not in effect');
        }
      }
      // Redis refuses a write only while its memory in use is over the limit, and that use drops again
      // once it shrinks the filler's idle buffers: then a small write would fit. Pin the limit below what
      // is in use now, so that every write is refused for the rest of the test.
      const used = Number(/used_memory:(\d+)/.exec(await filler.info('memory'))?.[1]);
      await filler.config('SET', 'maxmemory', String(Math.floor(used / 2)));

      for (const run of [
        () => request(fullApp).put('/hello/dave').send({ dateOfBirth: '1991-02-03' }), // a new user
        () => request(fullApp).put('/hello/alice').send({ dateOfBirth: '1992-03-04' }), // a replacement
      ]) {
        const { res, ms } = await timed(run);
        expect(res.status).toBe(507);
        expectJsonError(res);
        expect((res.body as { error: string }).error).toBe(
          'The storage is full, so this date of birth was not saved; dates saved earlier are kept and can still be read.',
        );
        expect(res.headers['retry-after']).toBeUndefined();
        expect(ms).toBeLessThan(FAST_MS);
      }

      // Nothing saved was evicted or changed: every user and every filler key is still there.
      for (const user of users) {
        const answer = await request(fullApp).get(`/hello/${user}`).expect(200);
        expect((answer.body as { message: string }).message).toMatch(new RegExp(`^Hello, ${user}!`));
      }
      expect(await filler.get(`${KEY_PREFIX}alice`)).toBe('1990-01-01');
      expect(await filler.exists(`${KEY_PREFIX}dave`)).toBe(0);
      expect(await filler.dbsize()).toBe(users.length + fillers);
      await request(fullApp).get('/readyz').expect(200);
      await request(fullApp).get('/healthz/redis').expect(200);
    } finally {
      filler.disconnect();
    }
  });
});
