/**
 * Throughput and latency of the API against a bare node:http handler doing the same work (one Redis
 * command per request, the same validation and date arithmetic), side by side in one run, on loopback.
 *
 *   npm run bench:api                         # builds the API, then runs this file
 *   node bench/api.ts --duration 10 --connections 64 --rounds 1
 *
 * Both servers run as child processes against one throwaway redis-server; autocannon drives them from
 * this process. Plain TypeScript run by Node's type stripping: no imports of project sources.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USER = 'benchmark';
const BODY = JSON.stringify({ dateOfBirth: '1990-05-17' });

// ---------------------------------------------------------------------------------------------------
// The bare baseline: node:http and ioredis with the API's client settings, nothing else.

const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const HELLO_PATH = /^\/hello\/([A-Za-z]{1,64})\/?$/;
const leap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const monthDays = (y: number, m: number): number =>
  m === 2 ? (leap(y) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
const dayNumber = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d) / 86_400_000;

function parseDate(value: unknown): [number, number, number] | undefined {
  if (typeof value !== 'string') return undefined;
  const match = ISO_DATE.exec(value);
  if (!match) return undefined;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= monthDays(y, m) ? [y, m, d] : undefined;
}

function daysUntil([, m, d]: [number, number, number], now: Date): number {
  const [ty, tm, td] = [now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate()];
  const on = (y: number): number => dayNumber(y, m, m === 2 && d === 29 && !leap(y) ? 28 : d);
  const today = dayNumber(ty, tm, td);
  const next = on(ty) >= today ? on(ty) : on(ty + 1);
  return next - today;
}

function runBare(port: number, redisPort: number): void {
  const redis = new Redis({
    port: redisPort,
    host: '127.0.0.1',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 250,
    enableAutoPipelining: true,
  });
  const send = (res: ServerResponse, status: number, body?: unknown): void => {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    if (url === '/readyz') {
      await redis.ping();
      send(res, 200, { status: 'ready' });
      return;
    }
    const user = HELLO_PATH.exec(url)?.[1];
    if (user === undefined) {
      send(res, 404, { error: 'not found' });
      return;
    }
    if (req.method === 'GET') {
      const stored = await redis.get(`hello:user:${user}`);
      const dob = parseDate(stored);
      if (!dob) {
        send(res, 404, { error: 'unknown user' });
        return;
      }
      const days = daysUntil(dob, new Date());
      const message =
        days === 0 ? `Hello, ${user}! Happy birthday!` : `Hello, ${user}! Your birthday is in ${days} day(s)`;
      send(res, 200, { message });
      return;
    }
    if (req.method === 'PUT') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > 16 * 1024) {
          send(res, 413, { error: 'too large' });
          return;
        }
        chunks.push(chunk);
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        send(res, 400, { error: 'bad json' });
        return;
      }
      const raw =
        typeof body === 'object' && body !== null && Object.hasOwn(body, 'dateOfBirth')
          ? (body as { dateOfBirth: unknown }).dateOfBirth
          : undefined;
      const dob = parseDate(raw);
      const now = new Date();
      if (
        !dob ||
        dayNumber(...dob) >= dayNumber(now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate())
      ) {
        send(res, 400, { error: 'bad date' });
        return;
      }
      await redis.set(`hello:user:${user}`, raw as string);
      send(res, 204);
      return;
    }
    send(res, 405, { error: 'method not allowed' });
  };
  createHttpServer((req, res) => {
    handle(req, res).catch(() => {
      send(res, 503, { error: 'storage unavailable' });
    });
  }).listen(port, '127.0.0.1');
}

// ---------------------------------------------------------------------------------------------------
// The driver.

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) done(address.port);
        else fail(new Error('no port'));
      });
    });
  });
}

const children: ChildProcess[] = [];
function start(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, stdio: 'ignore', env: { ...process.env, ...env } });
  children.push(child);
  return child;
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} never answered 200`);
}

interface Row {
  target: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpuMicros: number;
}

// CPU time a server process used, in seconds (utime + stime from /proc). Throughput on a shared 2-core
// machine depends on what else runs; CPU per request does not, so the table shows both.
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

async function measure(
  target: string,
  pid: number,
  base: string,
  scenario: 'GET' | 'PUT',
  connections: number,
  duration: number,
  warmUp: boolean,
): Promise<Row> {
  const options = {
    url: `${base}/hello/${USER}`,
    connections,
    duration,
    ...(scenario === 'PUT'
      ? { method: 'PUT', body: BODY, headers: { 'content-type': 'application/json' } }
      : {}),
  };
  if (warmUp) await autocannon({ ...options, duration: 2 }); // JIT, connection pools
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon(options);
  const cpu = cpuSeconds(pid) - cpuBefore;
  return {
    cpuMicros: (cpu * 1e6) / Math.max(1, result.requests.total),
    target,
    scenario,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? undefined : Number(process.argv[index + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--bare') {
    runBare(Number(process.argv[3]), Number(process.argv[4]));
    return;
  }
  const duration = option('duration', 10);
  const connections = option('connections', 64);
  const rounds = option('rounds', 1);
  const [redisPort, apiPort, barePort] = [await freePort(), await freePort(), await freePort()];
  start('redis-server', [
    '--port',
    String(redisPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  // The API as deployed: info-level request logs (to /dev/null here), metrics on.
  const api = start(process.execPath, ['dist/api/main.js'], {
    PORT: String(apiPort),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    LOG_LEVEL: 'info',
  });
  const bare = start(process.execPath, [
    fileURLToPath(import.meta.url),
    '--bare',
    String(barePort),
    String(redisPort),
  ]);
  const targets = [
    ['bare node:http', bare.pid ?? 0, `http://127.0.0.1:${barePort}`],
    ['api (express)', api.pid ?? 0, `http://127.0.0.1:${apiPort}`],
  ] as const;
  for (const [, , base] of targets) await waitFor(`${base}/readyz`);
  for (const [, , base] of targets) {
    const res = await fetch(`${base}/hello/${USER}`, { method: 'PUT', body: BODY });
    if (res.status !== 204) throw new Error(`seeding ${base} answered ${res.status}`);
  }

  console.log(
    `${connections} connections, ${rounds} round(s) of ${duration} s per server and scenario, after a ` +
      `2 s warm-up; Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(1)}`,
  );
  // Rounds alternate the two servers so that a burst of outside load hits both alike; medians are shown.
  const runs: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const scenario of ['GET', 'PUT'] as const) {
      for (const [name, pid, base] of targets) {
        runs.push(await measure(name, pid, base, scenario, connections, duration, round === 0));
      }
    }
  }
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  };
  const rows: Row[] = [];
  for (const scenario of ['GET', 'PUT']) {
    for (const [name] of targets) {
      const mine = runs.filter((r) => r.scenario === scenario && r.target === name);
      rows.push({
        target: name,
        scenario,
        rps: median(mine.map((r) => r.rps)),
        p50: median(mine.map((r) => r.p50)),
        p99: median(mine.map((r) => r.p99)),
        errors: mine.reduce((sum, r) => sum + r.errors, 0),
        cpuMicros: median(mine.map((r) => r.cpuMicros)),
      });
    }
  }

  const table = rows.map((r) => ({
    scenario: `${r.scenario} /hello/:username`,
    server: r.target,
    'req/s': Math.round(r.rps),
    'p50 ms': r.p50,
    'p99 ms': r.p99,
    errors: r.errors,
    'server CPU µs/req': Math.round(r.cpuMicros),
  }));
  console.table(table);
  for (const scenario of ['GET', 'PUT']) {
    const bare = rows.find((r) => r.scenario === scenario && r.target.startsWith('bare'));
    const api = rows.find((r) => r.scenario === scenario && r.target.startsWith('api'));
    if (!bare || !api) continue;
    const ratio = api.rps / bare.rps;
    const verdict = ratio >= 0.8 && api.p99 < 10 ? 'meets' : 'misses';
    console.log(
      `${scenario}: api keeps ${(ratio * 100).toFixed(1)}% of bare throughput, p99 ${api.p99} ms ` +
        `(${verdict} the target of >= 80% and p99 < 10 ms); ` +
        `CPU per request ${Math.round(api.cpuMicros)} µs vs ${Math.round(bare.cpuMicros)} µs bare`,
    );
  }
  console.log(`load average at the end: ${loadavg()[0]?.toFixed(1)}`);
  process.exit(0);
}

await main();
