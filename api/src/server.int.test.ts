// The built program (dist/api/main.js) as Kubernetes runs it: configuration, signals, graceful shutdown
// under keep-alive load, socket-level errors, secrets in logs, and the smoke check CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { startApiProcess, stopApiProcess, type ApiProcess } from '../../test/support/api-process.js';
import { freePort } from '../../test/support/ports.js';
import { startRedis, type RedisHandle } from '../../test/support/redis.js';

/** Exactly { "error": "<non-empty sentence>" }. */
function expectErrorShape(body: unknown): void {
  expect(typeof body === 'object' && body !== null ? Object.keys(body) : body).toEqual(['error']);
  expect(typeof (body as { error: unknown }).error).toBe('string');
}

jest.setTimeout(60_000);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SMOKE = resolve(ROOT, 'dist/api/smoke.js');
const running = new Set<ApiProcess>();
let redis: RedisHandle;

beforeAll(async () => {
  // Test the program as shipped: compile the API project (and common) first.
  execFileSync(process.execPath, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'api'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  redis = await startRedis();
});

afterEach(async () => {
  await Promise.all([...running].map(stopApiProcess));
  running.clear();
});

afterAll(async () => {
  await redis.stop();
});

async function spawnApi(env: Record<string, string>, waitReady = true): Promise<ApiProcess> {
  const api = await startApiProcess({ redisUrl: redis.url, env: { LOG_LEVEL: 'info', ...env }, waitReady });
  running.add(api);
  return api;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(
  agent: Agent | false,
  port: number,
  method: string,
  path: string,
  body?: string,
): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        done({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the server is working on `count` requests (besides the /metrics request asking). */
async function untilInFlight(api: ApiProcess, count: number): Promise<void> {
  for (let i = 0; ; i++) {
    const text = (await call(false, api.port, 'GET', '/metrics')).body;
    if (new RegExp(`^http_requests_in_flight ${count + 1}$`, 'm').test(text)) return;
    if (i > 400) throw new Error(`never saw ${count} requests in flight`);
    await sleep(25);
  }
}

describe('graceful shutdown', () => {
  it('loses no request of a keep-alive load across SIGTERM, then exits 0', async () => {
    const api = await spawnApi({ SHUTDOWN_DRAIN_MS: '3000', SHUTDOWN_TIMEOUT_MS: '10000' });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    expect((await call(agent, api.port, 'PUT', '/hello/loaded', '{"dateOfBirth":"2000-01-01"}')).status).toBe(
      204,
    );

    const errors: string[] = [];
    const statuses: number[] = [];
    let afterSignal = 0;
    let closeHeaders = 0;
    let signalled = false;
    let stop = false;
    const worker = async (n: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const put = (i + n) % 2 === 0;
        try {
          const reply = put
            ? await call(agent, api.port, 'PUT', '/hello/loaded', '{"dateOfBirth":"2000-01-01"}')
            : await call(agent, api.port, 'GET', '/hello/loaded');
          statuses.push(reply.status);
          if (signalled) afterSignal++;
          if (reply.headers.connection === 'close') closeHeaders++;
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, n) => worker(n));

    await sleep(400);
    signalled = true;
    api.proc.kill('SIGTERM');
    await sleep(300);
    // Draining: readiness fails at once, liveness and the API keep answering.
    expect((await call(false, api.port, 'GET', '/readyz')).status).toBe(503);
    expect((await call(false, api.port, 'GET', '/healthz')).status).toBe(200);
    // The load balancer would stop sending within the drain delay; the load stops well before it ends.
    await sleep(700);
    stop = true;
    await Promise.all(workers);

    expect(await api.exited).toBe(0);
    agent.destroy();
    expect(errors).toEqual([]);
    expect(statuses.length).toBeGreaterThan(100);
    expect(statuses.filter((s) => s !== 200 && s !== 204)).toEqual([]);
    expect(afterSignal).toBeGreaterThan(0);
    expect(closeHeaders).toBeGreaterThan(0); // keep-alive clients were told to reconnect
    expect(api.output()).toContain('shutdown complete');
  });

  it('finishes requests still in flight when the drain ends, refusing new connections', async () => {
    const api = await spawnApi({
      SHUTDOWN_DRAIN_MS: '200',
      SHUTDOWN_TIMEOUT_MS: '10000',
      CHAOS_LATENCY_MS: '2000',
    });
    expect(api.output()).toContain('CHAOS ENABLED');
    const agent = new Agent({ keepAlive: true });
    const inFlight = Array.from({ length: 8 }, () => call(agent, api.port, 'GET', '/hello/nobody'));
    await untilInFlight(api, 8);
    api.proc.kill('SIGTERM');
    // Once the drain is over the listener closes; the slow requests are still being answered.
    for (let i = 0; ; i++) {
      const refused = await new Promise<boolean>((done) => {
        const socket = connect(api.port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          done(false);
        });
        socket.once('error', () => {
          done(true);
        });
      });
      if (refused) break;
      if (i > 100) throw new Error('listener never closed');
      await sleep(20);
    }
    const replies = await Promise.all(inFlight);
    expect(replies.map((r) => r.status)).toEqual(Array(8).fill(404));
    // They began before the signal, yet still tell the client not to reuse the connection.
    expect(replies.map((r) => r.headers.connection)).toEqual(Array(8).fill('close'));
    expect(await api.exited).toBe(0);
    agent.destroy();
  });

  it('loses no log line at exit: each last request has its line, and "shutdown complete" is last', async () => {
    // Request lines are written in batches; the exit must flush the last batch.
    const api = await spawnApi({
      SHUTDOWN_DRAIN_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '10000',
      CHAOS_LATENCY_MS: '300',
    });
    const ids = Array.from({ length: 8 }, (_, i) => `last-request-${i}`);
    const replies = ids.map((id) =>
      fetch(`${api.base}/hello/nobody`, { headers: { 'x-request-id': id } }).then((r) => r.status),
    );
    await untilInFlight(api, ids.length);
    api.proc.kill('SIGTERM');
    expect(await Promise.all(replies)).toEqual(Array(ids.length).fill(404));
    expect(await api.exited).toBe(0);

    const lines = api
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const id of ids) {
      expect(lines.filter((l) => l.reqId === id)).toEqual([
        expect.objectContaining({ msg: 'request', status: 404, route: '/hello/:username' }),
      ]);
    }
    // Logged right before process.exit(), in the same turn of the event loop.
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'shutdown complete' });
  });

  it('gives up at SHUTDOWN_TIMEOUT_MS and exits 1 when a request never finishes', async () => {
    const api = await spawnApi({
      SHUTDOWN_DRAIN_MS: '100',
      SHUTDOWN_TIMEOUT_MS: '1000',
      CHAOS_LATENCY_MS: '30000',
    });
    const stuck = call(false, api.port, 'GET', '/hello/nobody').catch((err: unknown) => err);
    await untilInFlight(api, 1);
    api.proc.kill('SIGTERM');
    expect(await api.exited).toBe(1);
    expect(String(await stuck)).toMatch(/socket hang up|ECONNRESET/);
    expect(api.output()).toContain('shutdown timed out');
  });
});

describe('start-up', () => {
  it('refuses an invalid environment with one clear line and exit 1', async () => {
    const api = await spawnApi({ CHAOS_ERROR_RATE: '7' }, false);
    expect(await api.exited).toBe(1);
    const lines = api.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('invalid configuration: CHAOS_ERROR_RATE must be between 0 and 1, got 7');
  });

  it('uses REDIS_PASSWORD over the URL password and never logs either, nor a date of birth', async () => {
    const secured = await startRedis({ args: ['--requirepass', 'pw-from-env-31337'] });
    try {
      const api = await spawnApi({
        REDIS_URL: `redis://:pw-in-url-4242@127.0.0.1:${secured.port}`,
        REDIS_PASSWORD: 'pw-from-env-31337',
        LOG_LEVEL: 'debug',
        SHUTDOWN_DRAIN_MS: '0',
      });
      expect(
        (await call(false, api.port, 'PUT', '/hello/secret', '{"dateOfBirth":"1977-07-07"}')).status,
      ).toBe(204);
      expect((await call(false, api.port, 'GET', '/hello/secret')).status).toBe(200);
      api.proc.kill('SIGTERM');
      await api.exited;
      const out = api.output();
      expect(out).toContain('"route":"/hello/:username"');
      for (const secret of ['pw-from-env-31337', 'pw-in-url-4242', '1977-07-07', '1977']) {
        expect(out).not.toContain(secret);
      }
    } finally {
      await secured.stop();
    }
  });
});

describe('without Redis', () => {
  it('becomes ready, answers 503 JSON, and fails the smoke check on its PUT', async () => {
    // Nothing listens on this port: every connection attempt is refused.
    const api = await spawnApi({
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      SHUTDOWN_DRAIN_MS: '0',
      // Without it, the pod stays unready until Redis first answers (the default).
      STARTUP_STORAGE_WAIT_MS: '1000',
    });
    expect((await call(false, api.port, 'GET', '/readyz')).status).toBe(200);
    const answer = await call(false, api.port, 'GET', '/hello/alice');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expectErrorShape(JSON.parse(answer.body));
    expect((await call(false, api.port, 'GET', '/healthz/redis')).status).toBe(503);

    const smoke = spawnSync(process.execPath, [SMOKE, '--url', api.base], { encoding: 'utf8' });
    expect(smoke.status).toBe(1);
    const report = JSON.parse(smoke.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['put']);
  });
});

describe('socket-level errors', () => {
  it('answers oversized headers and broken HTTP with JSON too', async () => {
    const api = await spawnApi({ SHUTDOWN_DRAIN_MS: '0' });
    const rawRequest = (text: string) =>
      new Promise<string>((done, fail) => {
        const socket = connect(api.port, '127.0.0.1', () => socket.end(text));
        let reply = '';
        socket.on('data', (d: Buffer) => (reply += d.toString()));
        socket.on('close', () => {
          done(reply);
        });
        socket.on('error', fail);
      });
    const big = await rawRequest(
      `GET /hello/alice HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(big).toContain('{"error":"The request headers are too large."}');
    const broken = await rawRequest('NOT HTTP AT ALL\r\n\r\n');
    expect(broken).toMatch(/^HTTP\/1\.1 400 /);
    expectErrorShape(JSON.parse(broken.split('\r\n\r\n')[1] ?? ''));
  });
});

describe('smoke check CLI', () => {
  it('passes against a healthy instance and fails against nothing, with a one-line JSON report', async () => {
    const api = await spawnApi({ SHUTDOWN_DRAIN_MS: '0' });
    const good = spawnSync(process.execPath, [SMOKE, '--url', api.base], { encoding: 'utf8' });
    expect(good.status).toBe(0);
    const report = JSON.parse(good.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(good.stdout.trim().split('\n')).toHaveLength(1);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(['healthz', 'readyz', 'put', 'get', 'invalid-request']);

    const port = await freePort();
    const bad = spawnSync(process.execPath, [SMOKE, '--url', `http://127.0.0.1:${port}`], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect((JSON.parse(bad.stdout) as { ok: boolean }).ok).toBe(false);
  });
});
