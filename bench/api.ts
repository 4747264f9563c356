/**
 * Throughput and latency of the API against a bare node:http handler doing the same work (one Redis
 * command per request, the same validation and date arithmetic), side by side in one run, on loopback.
 *
 *   npm run bench:api                         # builds the API, then runs this file
 *   node bench/api.ts --duration 10 --connections 64 --rounds 1
 *   node bench/api.ts --baseline /tmp/old      # adds the API built in /tmp/old (its dist/api/main.js);
 *                                              # repeatable, each shown as "api (<directory name>)"
 *   node bench/api.ts --concurrent             # loads all servers at the same time (comparing builds)
 *   node bench/api.ts --no-pin                 # servers, autocannon and Redis share all CPUs
 *   node bench/api.ts --rate 4000              # the fixed rate of the open-loop latency phase (2000)
 *
 * Three servers (more with --baseline): the bare handler; the same bare handler plus the API's
 * per-request observability (its own request observer: the same request id, metrics and log line), so
 * the gap to the API is Express alone; and the API. Each runs as a child process
 * against one throwaway redis-server, writing its logs into a pipe that a `grep -c` reads (as a
 * container runtime reads a container's stdout); autocannon drives them from this process, to
 * saturation. Then each server gets a fixed rate, open loop, for its latency (latencyAtRate). Plain
 * TypeScript run by Node's type stripping: project code comes in only as the built dist/ files (types
 * aside).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import {
  Agent,
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { waitFor } from '../test/support/wait.ts';
import { freePort } from '../test/support/ports.ts';
import type { ApiMetrics } from '../api/src/metrics.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USER = 'benchmark';
const BODY = JSON.stringify({ dateOfBirth: '1990-05-17' });

// ---------------------------------------------------------------------------------------------------
// The bare baseline: node:http and ioredis with the API's client settings, nothing else; optionally
// with the API's per-request observability.

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

// The observed baseline uses the API's own request observer, metrics and logger, as built in dist/.
const dist = (path: string): string => pathToFileURL(resolve(ROOT, 'dist', path)).href;

/** A response of the observed baseline: the request id its head must carry. */
type Observed = ServerResponse & { requestId?: string };

/**
 * The API's request observer (api/src/request-observer.ts) on the bare server: the same request id,
 * in-flight gauge, duration histogram, request counter and log line, through a logger made as
 * api/src/main.ts makes it. The id goes into the head with the other headers, as the API's writeHead
 * adds it.
 */
async function observability(): Promise<{
  metrics: ApiMetrics;
  observe(req: IncomingMessage, res: ServerResponse, route: string): void;
}> {
  const { createLogger } = (await import(
    dist('common/logger.js')
  )) as typeof import('../common/src/logger.js');
  const { createApiMetrics } = (await import(
    dist('api/metrics.js')
  )) as typeof import('../api/src/metrics.js');
  const { requestObserver } = (await import(
    dist('api/request-observer.js')
  )) as typeof import('../api/src/request-observer.js');
  const metrics = createApiMetrics();
  const observeRequest = requestObserver(metrics, createLogger('helloworld-api', 'info', { buffered: true }));
  const pathOf = (url: string): string => {
    const query = url.indexOf('?');
    return query === -1 ? url : url.slice(0, query);
  };
  const observe = (req: IncomingMessage, res: ServerResponse, route: string): void => {
    const summary = () => ({ route, path: pathOf(req.url ?? '/') });
    (res as Observed).requestId = observeRequest(req, res, summary);
  };
  return { metrics, observe };
}

async function runBare(port: number, redisPort: number, observed: boolean): Promise<void> {
  const observer = observed ? await observability() : undefined;
  const redis = new Redis({
    port: redisPort,
    host: '127.0.0.1',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 250,
    enableAutoPipelining: true,
  });
  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ): void => {
    // The observed baseline's request id goes in with the other headers, as the API's writeHead adds it.
    const id = (res as Observed).requestId;
    if (body === undefined) {
      res.writeHead(status, id === undefined ? undefined : { 'x-request-id': id }).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...(id === undefined ? {} : { 'x-request-id': id }),
      ...headers,
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
    if (url === '/metrics' && observer) {
      const text = await observer.metrics.registry.metrics();
      const id = (res as Observed).requestId ?? '';
      res.writeHead(200, { 'x-request-id': id, 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(text);
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
      send(res, 200, { message }, { 'cache-control': 'no-store' });
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
  const routeOf = (url: string): string =>
    url === '/readyz' || url === '/metrics' ? url : HELLO_PATH.test(url) ? '/hello/:username' : 'unmatched';
  createHttpServer((req, res) => {
    observer?.observe(req, res, routeOf(req.url ?? '/'));
    handle(req, res).catch(() => {
      send(res, 503, { error: 'storage unavailable' });
    });
  }).listen(port, '127.0.0.1');
  // Exit through process.exit, so that buffered log lines are flushed as the API flushes them.
  process.once('SIGTERM', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------------
// The driver.

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

interface Server {
  readonly name: string;
  readonly process: ChildProcess;
  readonly base: string;
  /** Whether it writes a request log line and exposes http_requests_total on /metrics. */
  readonly observed: boolean;
  /** The number of request log lines it wrote, once it has exited. */
  readonly requestLines: Promise<number>;
}

/**
 * Starts a server whose stdout goes into a pipe read by `grep -c`, which counts its request lines: the
 * pipe has a reader in another process, as a container's stdout has, and the count shows whether
 * every request was logged.
 */
function startServer(
  name: string,
  args: string[],
  port: number,
  observed: boolean,
  env: Record<string, string> = {},
): Server {
  const counter = spawn('grep', ['-c', '"msg":"request"'], { stdio: ['pipe', 'pipe', 'ignore'] });
  let count = '';
  counter.stdout.on('data', (chunk: Buffer) => (count += chunk.toString()));
  const requestLines = new Promise<number>((done) =>
    counter.once('close', () => {
      done(Number(count.trim()) || 0);
    }),
  );
  const [command, commandArgs] = nodeOnServerCpu(args);
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    stdio: ['ignore', counter.stdin, 'ignore'],
    env: { ...process.env, ...env },
  });
  counter.stdin.destroy(); // the server holds the only write end now
  children.push(child, counter);
  return { name, process: child, base: `http://127.0.0.1:${port}`, observed, requestLines };
}

/**
 * On 2 or more CPUs the servers run on the last CPU, and this process (autocannon) and Redis on the
 * others, as a load generator runs on other cores or another machine than the server it measures. Each
 * server is loaded alone on its CPU, so throughput compares the servers' own cost per request (the
 * table's CPU % shows the server was the limit). With --no-pin, autocannon and the server take the
 * same cores from each other, and a server's throughput moves with how the scheduler splits them.
 */
const pinned = !process.argv.includes('--no-pin') && cpus().length >= 2;
const serverCpus = pinned ? String(cpus().length - 1) : undefined;
/** The command and arguments that run node with `args` on the servers' CPU. */
function nodeOnServerCpu(args: string[]): [string, string[]] {
  return serverCpus === undefined
    ? [process.execPath, args]
    : ['taskset', ['-c', serverCpus, process.execPath, ...args]];
}
function pinSelf(): void {
  if (!pinned) return;
  // -a: every thread of this process (libuv's, V8's), and so the children it starts from now on.
  execFileSync('taskset', ['-a', '-p', '-c', `0-${String(cpus().length - 2)}`, String(process.pid)], {
    stdio: 'ignore',
  });
}

// A process that only reads the clock, on the servers' CPU while nothing else is loaded there: every
// gap between two reads is time the CPU was taken from it (the hypervisor, the kernel), and a server's
// latency includes the same gaps.
const SPIN = `
const gaps = []; const end = performance.now() + 3000; let last = performance.now();
for (let now = last; now < end; last = now) { now = performance.now(); if (now - last > 1) gaps.push(now - last); }
console.log(JSON.stringify({ count: gaps.length, max: Math.max(0, ...gaps), total: gaps.reduce((a, b) => a + b, 0) }));`;
function schedulingGaps(): string {
  const out = execFileSync(...nodeOnServerCpu(['-e', SPIN]), { encoding: 'utf8' });
  const gaps = JSON.parse(out) as { count: number; max: number; total: number };
  return (
    `a spinning process on the servers' CPU lost it ${String(gaps.count)} times over 1 ms in 3 s ` +
    `(${gaps.total.toFixed(1)} ms in all, the longest ${gaps.max.toFixed(1)} ms)`
  );
}

interface Row {
  target: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpuMicros: number;
  /** Share of one CPU the server used over the run: near 100% means the server is the limit. */
  cpuShare: number;
}

// CPU time a server process used, in seconds (utime + stime from /proc). Throughput on a shared 2-core
// machine depends on what else runs; CPU per request does not, so the table shows both.
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Loads the given servers at the same time (usually one), each with its own connections. */
async function measure(
  targets: readonly Server[],
  scenario: 'GET' | 'PUT',
  connections: number,
  duration: number,
  warmUp: boolean,
): Promise<Row[]> {
  const options = (server: Server) => ({
    url: `${server.base}/hello/${USER}`,
    connections,
    duration,
    ...(scenario === 'PUT'
      ? { method: 'PUT', body: BODY, headers: { 'content-type': 'application/json' } }
      : {}),
  });
  // JIT, connection pools
  if (warmUp) await Promise.all(targets.map((t) => autocannon({ ...options(t), duration: 2 })));
  const cpuBefore = targets.map((t) => cpuSeconds(t.process.pid ?? 0));
  const results = await Promise.all(targets.map((t) => autocannon(options(t))));
  return targets.map((target, i) => {
    const result = results[i]!;
    const cpu = cpuSeconds(target.process.pid ?? 0) - cpuBefore[i]!;
    return {
      cpuMicros: (cpu * 1e6) / Math.max(1, result.requests.total),
      cpuShare: cpu / duration,
      target: target.name,
      scenario,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
    };
  });
}

interface LatencyRow {
  target: string;
  scenario: 'GET' | 'PUT';
  rate: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** The longest a request was sent after it was due: above a few ms, the generator was the limit. */
  sendLag: number;
}

/**
 * Latency at a fixed rate, open loop: request i is due at start + i / rate whatever happened to the
 * ones before, and its latency counts from when it was due. A stall of the server then delays every
 * request due during it, as it would delay users; autocannon's closed loop sends only when one of its
 * connections is free, so it leaves that backlog out, and at saturation its latency is the queue of
 * its own connections. Up to `connections` keep-alive connections; a request due while all are busy
 * waits for one, and that wait counts.
 */
async function latencyAtRate(
  server: Server,
  scenario: 'GET' | 'PUT',
  rate: number,
  connections: number,
  duration: number,
): Promise<LatencyRow> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const { hostname, port } = new URL(server.base);
  const total = Math.ceil(rate * duration);
  const latencies = new Float64Array(total);
  const expected = scenario === 'PUT' ? 204 : 200;
  const headers =
    scenario === 'PUT'
      ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(BODY)) }
      : {};
  let errors = 0;
  let sendLag = 0;
  const start = performance.now();
  await new Promise<void>((finished) => {
    let done = 0;
    let sent = 0;
    const settle = (i: number, ok: boolean): void => {
      latencies[i] = performance.now() - (start + (i * 1000) / rate);
      if (!ok) errors++;
      if (++done === total) finished();
    };
    const send = (i: number): void => {
      const req = httpRequest(
        { agent, hostname, port, path: `/hello/${USER}`, method: scenario, headers },
        (res) => {
          res.resume();
          res.once('end', () => {
            settle(i, res.statusCode === expected);
          });
        },
      );
      req.once('error', () => {
        settle(i, false);
      });
      req.end(scenario === 'PUT' ? BODY : undefined);
    };
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / rate <= now) {
        sendLag = Math.max(sendLag, performance.now() - (start + (sent * 1000) / rate));
        send(sent++);
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number =>
    Math.round((sorted[Math.min(total - 1, Math.floor(q * total))] ?? 0) * 10) / 10;
  return {
    target: server.name,
    scenario,
    rate,
    p50: at(0.5),
    p99: at(0.99),
    max: at(1),
    errors,
    sendLag: Math.round(sendLag * 10) / 10,
  };
}

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? undefined : Number(process.argv[index + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Every value of a repeatable option. */
function textOptions(name: string): string[] {
  return process.argv.flatMap((arg, i) => (arg === `--${name}` ? [process.argv[i + 1] ?? ''] : []));
}

/** The sum of http_requests_total over all series, from a Prometheus text exposition. */
function requestsTotal(exposition: string): number {
  let sum = 0;
  for (const match of exposition.matchAll(/^http_requests_total\{[^}]*\} ([0-9.e+]+)$/gm)) {
    sum += Number(match[1]);
  }
  return sum;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--bare' || process.argv[2] === '--bare-observed') {
    await runBare(Number(process.argv[3]), Number(process.argv[4]), process.argv[2] === '--bare-observed');
    return;
  }
  const duration = option('duration', 10);
  const connections = option('connections', 64);
  const rounds = option('rounds', 1);
  const concurrent = flag('concurrent');
  pinSelf();
  const redisPort = await freePort();
  children.push(
    spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    ),
  );
  const self = fileURLToPath(import.meta.url);
  const servers: Server[] = [];
  for (const mode of ['bare', 'bare-observed'] as const) {
    const port = await freePort();
    const name = mode === 'bare' ? 'bare node:http' : 'bare + logs, metrics';
    servers.push(
      startServer(name, [self, `--${mode}`, String(port), String(redisPort)], port, mode !== 'bare'),
    );
  }
  // The API as deployed: info-level request logs, metrics on.
  const apis: [string, string][] = [['api (express)', 'dist/api/main.js']];
  for (const dir of textOptions('baseline')) {
    apis.push([`api (${basename(resolve(dir))})`, resolve(dir, 'dist/api/main.js')]);
  }
  for (const [name, main] of apis) {
    const port = await freePort();
    servers.push(
      startServer(name, [main], port, true, {
        PORT: String(port),
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        LOG_LEVEL: 'info',
        SHUTDOWN_DRAIN_MS: '0',
      }),
    );
  }
  for (const { base } of servers) {
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok, {
      describe: `${base}/readyz to answer 200`,
      timeoutMs: 10_000,
      intervalMs: 25,
    });
  }
  for (const { base } of servers) {
    const res = await fetch(`${base}/hello/${USER}`, { method: 'PUT', body: BODY });
    if (res.status !== 204) throw new Error(`seeding ${base} answered ${res.status}`);
  }

  console.log(
    `${connections} connections${concurrent ? ' per server, all servers at once' : ''}, ${rounds} ` +
      `round(s) of ${duration} s per server and scenario, after a ` +
      `2 s warm-up; Node ${process.version}, ${cpus().length} CPUs` +
      `${pinned ? ` (servers on CPU ${String(serverCpus)}, autocannon and Redis on the others)` : ''}, ` +
      `load average ${loadavg()[0]?.toFixed(1)}; idle, ${schedulingGaps()}`,
  );
  // Rounds alternate the servers so that a burst of outside load hits them alike, and each round starts
  // one server further on, so that no server always follows the same one. With --concurrent, all
  // servers are loaded at once instead: each burst hits them at the same moment, which suits comparing
  // two builds on a busy machine. Medians are shown.
  const runs: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
    for (const scenario of ['GET', 'PUT'] as const) {
      for (const targets of concurrent ? [order] : order.map((s) => [s])) {
        runs.push(...(await measure(targets, scenario, connections, duration, round === 0)));
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
    for (const { name } of servers) {
      const mine = runs.filter((r) => r.scenario === scenario && r.target === name);
      rows.push({
        target: name,
        scenario,
        rps: median(mine.map((r) => r.rps)),
        p50: median(mine.map((r) => r.p50)),
        p99: median(mine.map((r) => r.p99)),
        errors: mine.reduce((sum, r) => sum + r.errors, 0),
        cpuMicros: median(mine.map((r) => r.cpuMicros)),
        cpuShare: median(mine.map((r) => r.cpuShare)),
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
    'server CPU %': Math.round(r.cpuShare * 100),
  }));
  console.table(table);
  const row = (scenario: string, name: string): Row | undefined =>
    rows.find((r) => r.scenario === scenario && r.target === name);

  // Latency at a fixed rate, every server at the same one (--rate). The generator is node's own http
  // client on the other CPU, which falls behind its schedule past about 5 000 req/s here: the
  // "send lag" column shows when it did.
  const rate = option('rate', 2000);
  const latencies: LatencyRow[] = [];
  for (const scenario of ['GET', 'PUT'] as const) {
    for (const server of servers) {
      latencies.push(await latencyAtRate(server, scenario, rate, connections, duration));
    }
  }
  console.log(
    `latency at a fixed rate, open loop (${connections} connections, ${duration} s per server; ` +
      'each latency counted from when its request was due):',
  );
  console.table(
    latencies.map((r) => ({
      scenario: `${r.scenario} /hello/:username`,
      server: r.target,
      'req/s': r.rate,
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      'max ms': r.max,
      errors: r.errors,
      'send lag ms': r.sendLag,
    })),
  );
  const latency = (scenario: string, name: string): LatencyRow | undefined =>
    latencies.find((r) => r.scenario === scenario && r.target === name);
  for (const scenario of ['GET', 'PUT']) {
    const bare = row(scenario, 'bare node:http');
    const observed = row(scenario, 'bare + logs, metrics');
    for (const [name] of apis) {
      const api = row(scenario, name);
      if (!bare || !observed || !api) continue;
      const ratio = api.rps / bare.rps;
      const fixed = latency(scenario, name);
      // Loaded together, servers split the machine by their CPU cost; the target is about one at a time.
      const verdict = concurrent
        ? 'the target is judged on a run without --concurrent'
        : `${ratio >= 0.8 ? 'meets' : 'misses'} the target of >= 80%`;
      console.log(
        `${scenario}: ${name} keeps ${(ratio * 100).toFixed(1)}% of bare throughput (${verdict}); ` +
          `p99 ${api.p99} ms at saturation, ${String(fixed?.p99)} ms at ${String(fixed?.rate)} req/s ` +
          `(target: under 10 ms); ` +
          `${((api.rps / observed.rps) * 100).toFixed(1)}% of bare + logs, metrics; CPU per request ` +
          `${Math.round(api.cpuMicros)} µs vs ${Math.round(bare.cpuMicros)} µs bare, ` +
          `${Math.round(observed.cpuMicros)} µs bare + logs, metrics`,
      );
    }
  }
  console.log(`load average at the end: ${loadavg()[0]?.toFixed(1)}`);

  // Every request answered must have its log line, also those answered just before the exit.
  for (const server of servers.filter((s) => s.observed)) {
    const answered = requestsTotal(await (await fetch(`${server.base}/metrics`)).text()) + 1; // + this one
    const exited = new Promise((done) => server.process.once('exit', done));
    server.process.kill('SIGTERM');
    await exited;
    const lines = await server.requestLines;
    console.log(
      `${server.name}: ${lines} request log lines for ${answered} requests answered` +
        (lines === answered ? '' : ' (MISMATCH)'),
    );
  }
  process.exit(0);
}

await main();
