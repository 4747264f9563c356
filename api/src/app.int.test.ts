// The whole HTTP contract, through supertest, against a real redis-server and a fixed clock.
import { Writable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import request from 'supertest';
import { createLogger } from '#common/logger.js';
import { startRedis, type RedisHandle } from '../../test/support/redis.js';
import { createApp, type AppDependencies } from './app.js';
import { redisTargetFromUrl } from './redis-config.js';
import { createApiMetrics } from './metrics.js';
import { createRedisStore, type BirthdayStore } from './store.js';

/** Exactly { "error": "<non-empty sentence>" }. */
function expectErrorShape(body: unknown): void {
  expect(typeof body === 'object' && body !== null ? Object.keys(body) : body).toEqual(['error']);
  expect(typeof (body as { error: unknown }).error).toBe('string');
}

const NOW = new Date('2025-06-15T12:00:00Z'); // a common year: 29 Feb birthdays fall on 28 Feb
let redis: RedisHandle;
let store: BirthdayStore;
let raw: Redis;
const silent = createLogger('test', 'silent');

beforeAll(async () => {
  redis = await startRedis();
  store = createRedisStore({
    target: redisTargetFromUrl(redis.url),
    commandTimeoutMs: 500,
    logger: silent,
  });
  raw = new Redis(redis.url);
  await raw.ping();
  await waitForStore(store);
});

afterAll(async () => {
  await store.close();
  raw.disconnect();
  await redis.stop();
});

beforeEach(async () => {
  await raw.flushall();
});

async function waitForStore(s: BirthdayStore): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await s.ping();
      return;
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function app(overrides: Partial<AppDependencies> = {}) {
  return createApp({
    store,
    metrics: createApiMetrics(),
    logger: silent,
    readiness: { shuttingDown: false },
    clock: () => NOW,
    ...overrides,
  });
}

/** An info-level logger whose lines land in `lines`, one string per line. */
function capturedLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

const put = (a: ReturnType<typeof app>, user: string, body: unknown) =>
  request(a)
    .put(`/hello/${user}`)
    .send(body as object);

function expectJsonError(res: request.Response, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expectErrorShape(res.body);
  expect((res.body as { error: string }).error.length).toBeGreaterThan(10);
}

describe('PUT /hello/:username', () => {
  it('saves the date as an ISO string with no TTL and answers 204 with an empty body', async () => {
    const res = await put(app(), 'alice', { dateOfBirth: '1990-06-20' });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await raw.get('hello:user:alice')).toBe('1990-06-20');
    expect(await raw.ttl('hello:user:alice')).toBe(-1);
  });

  it('replaces an existing date', async () => {
    const a = app();
    await put(a, 'alice', { dateOfBirth: '1990-06-20' }).expect(204);
    await put(a, 'alice', { dateOfBirth: '1991-06-16' }).expect(204);
    expect(await raw.get('hello:user:alice')).toBe('1991-06-16');
    const res = await request(a).get('/hello/alice').expect(200);
    expect(res.body).toEqual({ message: 'Hello, alice! Your birthday is in 1 day(s)' });
  });

  it('ignores unknown fields and parses JSON whatever the Content-Type', async () => {
    const a = app();
    await put(a, 'a', { dateOfBirth: '2000-01-01', nickname: 'x', nested: { deep: [1] } }).expect(204);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
      await request(a)
        .put('/hello/b')
        .set('content-type', type)
        .send('{"dateOfBirth":"2000-01-02"}')
        .expect(204);
    }
    // no Content-Type at all
    const res = await request(a)
      .put('/hello/c')
      .serialize((b: unknown) => b as string)
      .send('{"dateOfBirth":"2000-01-03"}')
      .unset('content-type');
    expect(res.status).toBe(204);
    expect(await raw.get('hello:user:c')).toBe('2000-01-03');
  });

  it('accepts a gzip-encoded body', async () => {
    await request(app())
      .put('/hello/zipped')
      .set('content-type', 'application/json')
      .set('content-encoding', 'gzip')
      .serialize((b: unknown) => b as string) // send the bytes as they are
      .send(gzipSync('{"dateOfBirth":"1980-02-29"}'))
      .expect(204);
    expect(await raw.get('hello:user:zipped')).toBe('1980-02-29');
  });

  it.each([
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('accepts a %s-encoded body', async (encoding, compress) => {
    await request(app())
      .put('/hello/packed')
      .set('content-encoding', encoding)
      .serialize((b: unknown) => b as string)
      .send(compress('{"dateOfBirth":"1980-02-29"}'))
      .expect(204);
  });

  it('counts the 16 KiB limit after decompression, so a small bomb is refused', async () => {
    const bomb = gzipSync(JSON.stringify({ dateOfBirth: '2000-01-01', pad: ' '.repeat(1024 * 1024) }));
    expect(bomb.length).toBeLessThan(16 * 1024);
    const res = await request(app())
      .put('/hello/alice')
      .set('content-encoding', 'gzip')
      .serialize((b: unknown) => b as string)
      .send(bomb);
    expectJsonError(res, 413);
  });

  it.each([
    ['a real date that does not exist', { dateOfBirth: '2021-02-30' }],
    ['29 February in a common year', { dateOfBirth: '2023-02-29' }],
    ['today', { dateOfBirth: '2025-06-15' }],
    ['the future', { dateOfBirth: '2030-01-01' }],
    ['year 0000', { dateOfBirth: '0000-12-31' }],
    ['a date-time', { dateOfBirth: '2000-01-01T00:00:00Z' }],
    ['a timestamp', { dateOfBirth: 946684800000 }],
    ['a numeric string', { dateOfBirth: '946684800' }],
    ['a number', { dateOfBirth: 20000101 }],
    ['null', { dateOfBirth: null }],
    ['an object', { dateOfBirth: { year: 2000 } }],
    ['an array', { dateOfBirth: ['2000-01-01'] }],
    ['a day first date', { dateOfBirth: '01-01-2000' }],
    ['a short year', { dateOfBirth: '200-01-01' }],
    ['a missing key', {}],
    ['a capitalised key', { DateOfBirth: '2000-01-01' }],
    ['a lower-case key', { dateofbirth: '2000-01-01' }],
    ['a key with a space', { 'dateOfBirth ': '2000-01-01' }],
    ['the key only under __proto__', JSON.parse('{"__proto__":{"dateOfBirth":"2000-01-01"}}') as object],
  ])('rejects %s with 400', async (_what, body) => {
    const res = await put(app(), 'alice', body);
    expectJsonError(res, 400);
    expect(await raw.exists('hello:user:alice')).toBe(0);
  });

  it.each([
    ['malformed JSON', '{"dateOfBirth": "2000-01-01"'],
    ['a bare string', '"2000-01-01"'],
    ['a number', '20000101'],
    ['null', 'null'],
    ['true', 'true'],
    ['an array', '[{"dateOfBirth":"2000-01-01"}]'],
    ['an empty body', ''],
    ['whitespace', '   '],
    ['form encoding', 'dateOfBirth=2000-01-01'],
    ['a BOM-less UTF-16 surrogate mess', '{"dateOfBirth":"\ud800"}'],
  ])('rejects %s with 400', async (_what, body) => {
    const res = await request(app()).put('/hello/alice').set('content-type', 'application/json').send(body);
    expectJsonError(res, 400);
  });

  it('rejects a body over 16 KiB with 413, and accepts one just under', async () => {
    const a = app();
    const padding = (n: number) => JSON.stringify({ dateOfBirth: '2000-01-01', pad: 'x'.repeat(n) });
    const under = padding(16 * 1024 - 50);
    expect(Buffer.byteLength(under)).toBeLessThanOrEqual(16 * 1024);
    await request(a).put('/hello/alice').set('content-type', 'application/json').send(under).expect(204);
    const over = padding(16 * 1024);
    const res = await request(a).put('/hello/alice').set('content-type', 'application/json').send(over);
    expectJsonError(res, 413);
  });

  it('rejects an unsupported charset or Content-Encoding with 400', async () => {
    const a = app();
    const body = '{"dateOfBirth":"2000-01-01"}';
    expectJsonError(
      await request(a).put('/hello/alice').set('content-type', 'application/json; charset=latin1').send(body),
      400,
    );
    expectJsonError(await request(a).put('/hello/alice').set('content-encoding', 'compress').send(body), 400);
    expectJsonError(
      await request(a).put('/hello/alice').set('content-encoding', 'gzip').send(body), // not gzip
      400,
    );
  });
});

describe('GET /hello/:username', () => {
  it.each([
    ['1990-06-16', 'Hello, alice! Your birthday is in 1 day(s)'],
    ['1990-06-15', 'Hello, alice! Happy birthday!'],
    ['1990-06-14', 'Hello, alice! Your birthday is in 364 day(s)'],
    ['1990-12-31', 'Hello, alice! Your birthday is in 199 day(s)'],
  ])('born %s: %s', async (dob, message) => {
    const a = app();
    await put(a, 'alice', { dateOfBirth: dob }).expect(204);
    const res = await request(a).get('/hello/alice').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ message });
  });

  it('celebrates 29 February birthdays on 28 February in common years', async () => {
    const a = app({ clock: () => new Date('2025-02-28T23:59:59.999Z') });
    await put(a, 'leap', { dateOfBirth: '2000-02-29' }).expect(204);
    expect((await request(a).get('/hello/leap')).body).toEqual({ message: 'Hello, leap! Happy birthday!' });
  });

  it('uses the UTC date', async () => {
    const a = app({ clock: () => new Date('2025-06-15T23:30:00-05:00') }); // 16 June in UTC
    await put(a, 'alice', { dateOfBirth: '1990-06-16' }).expect(204);
    expect((await request(a).get('/hello/alice')).body).toEqual({ message: 'Hello, alice! Happy birthday!' });
  });

  it('treats usernames as case-sensitive and echoes them exactly', async () => {
    const a = app();
    await put(a, 'Alice', { dateOfBirth: '1990-06-16' }).expect(204);
    await put(a, 'alice', { dateOfBirth: '1990-06-17' }).expect(204);
    expect((await request(a).get('/hello/Alice')).body).toEqual({
      message: 'Hello, Alice! Your birthday is in 1 day(s)',
    });
    expect((await request(a).get('/hello/alice')).body).toEqual({
      message: 'Hello, alice! Your birthday is in 2 day(s)',
    });
    expectJsonError(await request(a).get('/hello/ALICE'), 404);
  });

  it('answers 404 with a JSON error for an unknown user', async () => {
    expectJsonError(await request(app()).get('/hello/nobody'), 404);
  });

  it('answers HEAD like GET, without a body', async () => {
    const a = app();
    await put(a, 'alice', { dateOfBirth: '1990-06-16' }).expect(204);
    const res = await request(a).head('/hello/alice');
    expect(res.status).toBe(200);
    expect(res.text).toBeUndefined();
    expect((await request(a).head('/hello/nobody')).status).toBe(404);
  });

  it('accepts a trailing slash and percent-encoded letters (decoded before validation)', async () => {
    const a = app();
    await put(a, 'Alice', { dateOfBirth: '1990-06-16' }).expect(204);
    expect((await request(a).get('/hello/Alice/')).status).toBe(200);
    const res = await request(a).get('/hello/%41lice');
    expect(res.body).toEqual({ message: 'Hello, Alice! Your birthday is in 1 day(s)' });
  });
});

describe('plain paths, answered without the router, and routed ones', () => {
  // "/hello/alice" is handed to the handler by the request middleware; the other spellings of the same
  // request go through Express's router. Both must give the same answers.
  const routed = ['/HELLO/alice', '/hello/alice/', '/hello/%61lice', '/hello/alice?x=1', '/Hello/alice'];
  const answer = (res: request.Response) => ({
    status: res.status,
    type: res.headers['content-type'],
    cache: res.headers['cache-control'],
    allow: res.headers.allow,
    body: res.text,
  });

  it.each(routed)('GET, HEAD, PUT and 405s on %s answer as on /hello/alice', async (path) => {
    const a = app();
    const same = async (send: (p: string) => request.Test) => {
      expect(answer(await send(path))).toEqual(answer(await send('/hello/alice')));
    };
    await same((p) => request(a).get(p)); // unknown user: 404
    await same((p) => request(a).put(p).send({ dateOfBirth: '1990-06-99' })); // 400
    await same((p) => request(a).put(p).set('content-type', 'application/json').send('{')); // 400
    await same((p) => request(a).put(p).send({ dateOfBirth: '1990-06-16' })); // 204
    await same((p) => request(a).get(p)); // 200
    await same((p) => request(a).head(p));
    await same((p) => request(a).delete(p)); // 405 with Allow
  });

  it('records the same route in metrics and logs on both', async () => {
    const { lines, logger } = capturedLogger();
    const metrics = createApiMetrics();
    const a = app({ metrics, logger });
    await request(a).get('/hello/alice').expect(404);
    await request(a).get('/hello/alice/').expect(404);
    expect(await metrics.registry.getSingleMetricAsString('http_requests_total')).toContain(
      'http_requests_total{method="GET",route="/hello/:username",status_code="404"} 2',
    );
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.filter((e) => e.msg === 'request').map((e) => [e.route, e.path])).toEqual([
      ['/hello/:username', '/hello/alice'],
      ['/hello/:username', '/hello/alice/'],
    ]);
  });

  it('applies chaos on both', async () => {
    const a = app({ chaos: { errorRate: 1, latencyMs: 0 } });
    expectJsonError(await request(a).get('/hello/alice'), 500);
    expectJsonError(await request(a).get('/hello/alice/'), 500);
    expectJsonError(await request(a).post('/hello/alice'), 405); // the method check comes first
  });
});

describe('usernames', () => {
  const bad = [
    'al1ce',
    'a'.repeat(65),
    'al_ice',
    'al-ice',
    'al.ice',
    '%C3%A9lodie', // élodie
    '%D0%90lice', // Cyrillic А
    'al%20ice',
    'al%2Fice',
    'al%00ice',
    '%E0%A4%A', // broken percent-encoding
    '%',
    '..',
  ];
  it.each(bad)('rejects %s on GET and PUT with 400', async (user) => {
    const a = app();
    expectJsonError(await request(a).get(`/hello/${user}`), 400);
    expectJsonError(await put(a, user, { dateOfBirth: '2000-01-01' }), 400);
  });

  it('accepts 64 letters', async () => {
    const a = app();
    const user = 'x'.repeat(64);
    await put(a, user, { dateOfBirth: '2000-01-01' }).expect(204);
    await request(a).get(`/hello/${user}`).expect(200);
  });

  it('answers 400 when the path names no user', async () => {
    expectJsonError(await request(app()).get('/hello/'), 400);
    expectJsonError(await request(app()).get('/hello'), 400);
  });
});

describe('methods and paths', () => {
  it.each(['post', 'delete', 'patch', 'options'] as const)(
    'answers %s on /hello/:username with 405 and Allow',
    async (m) => {
      const res = await request(app())[m]('/hello/alice');
      expectJsonError(res, 405);
      expect(res.headers.allow).toBe('GET, HEAD, PUT');
    },
  );

  it('answers a POST to /healthz with 405', async () => {
    const res = await request(app()).post('/healthz');
    expectJsonError(res, 405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it.each(['/', '/nope', '/hello/alice/extra', '/HELLO/alice', '/hello/alice/..'])(
    'answers %s with a JSON 404',
    async (path) => {
      expectJsonError(await request(app()).get(path), 404);
    },
  );

  it('does not advertise the framework', async () => {
    const res = await request(app()).get('/healthz');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('operations endpoints', () => {
  it('serves liveness and readiness', async () => {
    const a = app();
    expect((await request(a).get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
    expect((await request(a).get('/readyz').expect(200)).body).toEqual({
      status: 'ready',
      redisMode: { topology: 'standalone', tls: false },
    });
  });

  it('is not ready until the first connection to storage has been attempted', async () => {
    const a = app({ readiness: { shuttingDown: false, starting: true } });
    const res = await request(a).get('/readyz');
    expectJsonError(res, 503);
    expect((res.body as { error: string }).error).toMatch(/starting.*\(Redis standalone\)/);
    await request(a).get('/healthz').expect(200);
  });

  it('reports Redis on /healthz/redis, outside readiness', async () => {
    expect((await request(app()).get('/healthz/redis').expect(200)).body).toEqual({
      status: 'ok',
      redis: 'up',
      redisMode: { topology: 'standalone', tls: false },
    });
  });

  it('turns readiness 503 while shutting down, liveness stays 200', async () => {
    const a = app({ readiness: { shuttingDown: true } });
    expectJsonError(await request(a).get('/readyz'), 503);
    await request(a).get('/healthz').expect(200);
  });

  it('closes keep-alive connections after every answer once shutting down, and only then', async () => {
    const lifecycle = { shuttingDown: false };
    const a = app({ readiness: lifecycle });
    const keepAlive = (test: request.Test) => test.set('connection', 'keep-alive');
    const answers = async () => [
      await keepAlive(put(a, 'alice', { dateOfBirth: '1990-06-16' })), // 204, head written by end()
      await keepAlive(request(a).get('/hello/alice')), // the plain path
      await keepAlive(request(a).get('/hello/alice/')), // the routed path
      await keepAlive(request(a).head('/hello/alice')),
      await keepAlive(request(a).get('/hello/al1ce')), // an error
      await keepAlive(request(a).get('/metrics')),
      await keepAlive(request(a).get('/readyz')),
    ];
    for (const res of await answers()) expect(res.headers.connection).not.toBe('close');
    lifecycle.shuttingDown = true;
    for (const res of await answers()) expect(res.headers.connection).toBe('close');
  });

  it('answers every request with its request id, the one given when valid, a fresh UUID otherwise', async () => {
    const lifecycle = { shuttingDown: false };
    const a = app({ readiness: lifecycle });
    const withId = (test: request.Test, id?: string) =>
      id === undefined ? test : test.set('x-request-id', id);
    const answers = async (id?: string) => [
      await withId(put(a, 'alice', { dateOfBirth: '1990-06-16' }), id), // 204, head written by end()
      await withId(request(a).get('/hello/alice'), id), // the plain path, headers given to writeHead
      await withId(request(a).get('/hello/alice/'), id), // the routed path
      await withId(request(a).head('/hello/alice'), id),
      await withId(request(a).get('/hello/al1ce'), id), // an error
      await withId(request(a).delete('/hello/alice'), id), // 405, with its own allow header
      await withId(request(a).get('/no/such/path'), id),
      await withId(request(a).get('/metrics'), id), // headers set by Express before the head
      await withId(request(a).get('/healthz'), id),
    ];
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const res of await answers()) expect(res.headers['x-request-id']).toMatch(uuid);
    for (const res of await answers('trace-1.2:3_x'))
      expect(res.headers['x-request-id']).toBe('trace-1.2:3_x');
    for (const res of await answers('not valid!')) expect(res.headers['x-request-id']).toMatch(uuid);
    const fresh = await answers();
    expect(new Set(fresh.map((r) => r.headers['x-request-id'])).size).toBe(fresh.length);
    // The other headers are all still there, and shutting down adds "connection: close" beside the id.
    const [created, got, , , , notAllowed, , scraped] = fresh;
    expect(created?.status).toBe(204);
    expect(got?.headers).toMatchObject({ 'cache-control': 'no-store', 'content-type': /^application\/json/ });
    expect(notAllowed?.headers.allow).toBe('GET, HEAD, PUT');
    expect(scraped?.headers['content-type']).toMatch(/^text\/plain/);
    lifecycle.shuttingDown = true;
    for (const res of await answers('after-sigterm')) {
      expect(res.headers['x-request-id']).toBe('after-sigterm');
      expect(res.headers.connection).toBe('close');
    }
  });

  it('exposes Prometheus metrics labelled by route template, never by raw path', async () => {
    const a = app();
    await put(a, 'alice', { dateOfBirth: '1990-06-16' }).expect(204);
    await request(a).get('/hello/alice').expect(200);
    await request(a).get('/hello/bob').expect(404);
    await request(a).get('/no/such/path').expect(404);
    const res = await request(a).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/hello\/:username",status_code="200"\} 1/,
    );
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/hello\/:username",status_code="404"\} 1/,
    );
    expect(text).toMatch(
      /http_requests_total\{method="PUT",route="\/hello\/:username",status_code="204"\} 1/,
    );
    expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1/);
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.001"');
    expect(text).toContain('hello_storage_errors_total{operation="get"} 0');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).not.toContain('alice');
    expect(text).not.toContain('/no/such/path');
  });
});

describe('request logs', () => {
  it('writes one JSON line per request at info, without the date of birth', async () => {
    const { lines, logger } = capturedLogger();
    const a = app({ logger });
    await put(a, 'alice', { dateOfBirth: '1987-06-05' }).expect(204);
    await put(a, 'alice', { dateOfBirth: '1987-99-05' }).expect(400);
    await request(a).get('/hello/alice').set('x-request-id', 'trace-123').expect(200);
    expect(lines).toHaveLength(3);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.map((e) => e.status)).toEqual([204, 400, 200]);
    expect(entries[2]).toMatchObject({
      level: 30,
      method: 'GET',
      route: '/hello/:username',
      reqId: 'trace-123',
      path: '/hello/alice',
    });
    expect(Object.keys(entries[2] ?? {})).toEqual([
      'level',
      'time',
      'pid',
      'hostname',
      'reqId',
      'method',
      'route',
      'path',
      'status',
      'durationMs',
      'msg',
    ]);
    expect(entries[2]?.durationMs).toEqual(expect.any(Number));
    expect(lines.join('\n')).not.toContain('1987');
  });
});

describe('abandoned requests', () => {
  it('are counted and logged with status 499', async () => {
    const metrics = createApiMetrics();
    const { lines, logger } = capturedLogger();
    const server = app({ chaos: { errorRate: 0, latencyMs: 300 }, metrics, logger }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    await fetch(`http://127.0.0.1:${port}/hello/alice`, { signal: AbortSignal.timeout(50) }).catch(
      () => undefined,
    );
    for (let i = 0; ; i++) {
      const text = await metrics.registry.metrics();
      if (text.includes('http_requests_total{method="GET",route="/hello/:username",status_code="499"} 1'))
        break;
      if (i > 200) throw new Error(`no 499 recorded:\n${text}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({ msg: 'request', status: 499, path: '/hello/alice', aborted: true }),
    ]);
    await new Promise((r) => server.close(r));
  });
});

describe('chaos knobs', () => {
  it('fails the configured share of /hello requests with a JSON 500', async () => {
    const rolls = [0.1, 0.9];
    const a = app({ chaos: { errorRate: 0.5, latencyMs: 0 }, random: () => rolls.shift() ?? 0.9 });
    expectJsonError(await put(a, 'alice', { dateOfBirth: '1990-06-16' }), 500);
    await put(a, 'alice', { dateOfBirth: '1990-06-16' }).expect(204);
    await request(a).get('/healthz').expect(200); // operations endpoints are never affected
  });

  it('adds latency to /hello requests and counts it', async () => {
    const metrics = createApiMetrics();
    const a = app({ chaos: { errorRate: 0, latencyMs: 20 }, metrics });
    await put(a, 'alice', { dateOfBirth: '1990-06-16' }).expect(204);
    expect(await metrics.registry.getSingleMetricAsString('hello_chaos_injected_total')).toContain(
      'hello_chaos_injected_total{kind="latency"} 1',
    );
  });
});
