/**
 * Blast radius of a bad release, Rolling vs Canary, side by side in one run on the local cluster with a
 * real node (`make up NODE=real`, or `KEEP=1 hack/e2e-real.sh …`): the operator deployed, the API and
 * Redis images loaded. A benchmark: it prints a table and asserts nothing.
 *
 *   npm run bench:blast-radius                       # 10 replicas, 8 clients, 2 rounds
 *   node bench/blast-radius.ts --replicas 10 --clients 8 --rounds 2
 *
 * Each round, for each strategy in turn, on a HelloWorld of its own in namespace hello-blast:
 *   1. the first release is rolled out and promoted;
 *   2. steady PUT/GET load from this host through the Service (the real node routes Service addresses),
 *      every request's answer and time recorded;
 *   3. a release whose every /hello request fails (CHAOS_ERROR_RATE=1) is applied; the Rolling strategy
 *      verifies it once all 10 pods run it, the Canary strategy at its first step (1 canary pod beside
 *      the 10 stable ones, then verify);
 *   4. the run waits until the operator rolled back, every pod is of the stable revision again and
 *      10 s passed; the load stops.
 * Reported per strategy: the share of requests that failed from the bad release's apply to the end,
 * how long errors reached clients (first to last failed request), of that the seconds after the
 * operator had decided to roll back, and for the canary the seconds from the first failed request to
 * the last canary pod gone.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { loadavg } from 'node:os';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer`);
  return value;
}
const REPLICAS = option('replicas', 10);
const CLIENTS = option('clients', 8);
const ROUNDS = option('rounds', 2);
const namespace = process.env.BENCH_NAMESPACE ?? 'hello-blast';
const apiImage = process.env.BENCH_API_IMAGE ?? 'helloworld-api:dev';
const redisImage = process.env.BENCH_REDIS_IMAGE ?? 'helloworld-local/redis:7';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function kubectl(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`kubectl ${args.join(' ')}: ${err.trim() || `exit ${String(code)}`}`));
    });
    child.stdin.end(input ?? '');
  });
}

type Strategy = 'Rolling' | 'Canary';

interface HwStatus {
  phase?: string;
  stableRevision?: string;
  observedGeneration?: number;
  lastRollback?: { time: string; reason: string };
}

async function hw(name: string): Promise<{ generation: number; status: HwStatus }> {
  const object = JSON.parse(await kubectl(['get', 'hw', name, '-n', namespace, '-o', 'json'])) as {
    metadata: { generation: number };
    status?: HwStatus;
  };
  return { generation: object.metadata.generation, status: object.status ?? {} };
}

async function until(what: string, seconds: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${String(seconds)} s`);
    await sleep(250);
  }
}

function spec(strategy: Strategy, env: Record<string, string>): Record<string, unknown> {
  return {
    image: apiImage,
    replicas: REPLICAS,
    env: Object.entries({ REDIS_COMMAND_TIMEOUT_MS: '2000', ...env }).map(([n, value]) => ({
      name: n,
      value,
    })),
    rollout: {
      progressDeadlineSeconds: 300,
      strategy,
      ...(strategy === 'Canary' && {
        steps: [
          { canary: { replicas: 1 } },
          { verify: {} },
          { canary: { replicas: '100%' } },
          { verify: {} },
        ],
      }),
      verification: {
        smoke: { maxLatencyMs: 2000 },
        analysis: { windowSeconds: 20, intervalSeconds: 5 },
      },
    },
    redis: { mode: 'Managed', image: redisImage, storage: { size: '256Mi', whenDeleted: 'Delete' } },
    resources: { requests: { cpu: '20m', memory: '48Mi' }, limits: { memory: '256Mi' } },
  };
}

async function apply(name: string, strategy: Strategy, env: Record<string, string>): Promise<void> {
  const object = {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name, namespace },
    spec: spec(strategy, env),
  };
  await kubectl(['apply', '--server-side', '--field-manager', 'bench', '-f', '-'], JSON.stringify(object));
}

interface Sample {
  at: number;
  ok: boolean;
}

/** Steady PUT/GET load from `CLIENTS` workers on the Service; every answer kept with its time. */
function startLoad(base: string): { stop: () => Promise<Sample[]> } {
  const samples: Sample[] = [];
  let stopping = false;
  // A new connection per request, as many short-lived clients make: kube-proxy balances connections, so
  // keep-alive would pin each client to the pods that existed when it connected and hide the canary.
  const call = (method: string, path: string, expect: number, body?: string): Promise<void> =>
    new Promise((resolve) => {
      let counted = false;
      const done = (ok: boolean): void => {
        if (counted) return;
        counted = true;
        samples.push({ at: Date.now(), ok });
        resolve();
      };
      const req = request(`${base}${path}`, { method, agent: false, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          done(res.statusCode === expect);
        });
        res.on('error', () => {
          done(false);
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', () => {
        done(false);
      }); // no HTTP answer: refused, reset or timed out
      if (body !== undefined) req.setHeader('content-type', 'application/json');
      req.end(body);
    });
  const worker = async (i: number): Promise<void> => {
    const path = `/hello/blast${'abcdefghijklmnopqrstuvwxyz'[i % 26] ?? 'x'}`;
    for (let n = 0; !stopping; n++) {
      if (n % 2 === 0) await call('PUT', path, 204, '{"dateOfBirth":"1990-05-15"}');
      else await call('GET', path, 200);
    }
  };
  const running = Promise.all(Array.from({ length: CLIENTS }, (_, i) => worker(i)));
  return {
    stop: async () => {
      stopping = true;
      await running;
      return samples;
    },
  };
}

interface Outcome {
  requests: number;
  failedShare: number;
  errorSeconds: number;
  afterDecisionSeconds: number;
  canaryGoneSeconds?: number;
  reason: string;
}

async function apiPods(name: string, extra = ''): Promise<number> {
  const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/component=api${extra}`;
  const out = await kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'name']);
  return out.split('\n').filter(Boolean).length;
}

async function badRelease(strategy: Strategy, round: number): Promise<Outcome> {
  const name = `${strategy.toLowerCase()}-${String(round)}`;
  await apply(name, strategy, { RELEASE: 'good' });
  await until(`${name}: the first release Available`, 600, async () => {
    const { generation, status } = await hw(name);
    return status.observedGeneration === generation && status.phase === 'Available';
  });
  const ip = (
    await kubectl(['get', 'svc', name, '-n', namespace, '-o', 'jsonpath={.spec.clusterIP}'])
  ).trim();
  const load = startLoad(`http://${ip}`);
  await sleep(10_000);
  const applied = Date.now();
  await apply(name, strategy, { RELEASE: 'bad', CHAOS_ERROR_RATE: '1' });
  let canaryGoneAt: number | undefined;
  let sawCanary = false;
  await until(`${name}: the bad release rolled back and every pod stable again`, 900, async () => {
    if (strategy === 'Canary') {
      const canaries = await apiPods(name, ',hello.dev/track=canary');
      if (canaries > 0) sawCanary = true;
      else if (sawCanary && canaryGoneAt === undefined) canaryGoneAt = Date.now();
    }
    const { status } = await hw(name);
    if (status.phase !== 'RolledBack') return false;
    const pods = JSON.parse(
      await kubectl([
        'get',
        'pods',
        '-n',
        namespace,
        '-l',
        `app.kubernetes.io/instance=${name},app.kubernetes.io/component=api`,
        '-o',
        'json',
      ]),
    ) as { items: { metadata: { annotations?: Record<string, string> } }[] };
    return (
      pods.items.length === REPLICAS &&
      pods.items.every((p) => p.metadata.annotations?.['hello.dev/revision'] === status.stableRevision) &&
      (strategy === 'Rolling' || canaryGoneAt !== undefined)
    );
  });
  await sleep(10_000);
  const samples = (await load.stop()).filter((s) => s.at >= applied);
  const { status } = await hw(name);
  await kubectl(['delete', 'hw', name, '-n', namespace, '--wait=false']);
  const failed = samples.filter((s) => !s.ok);
  const first = failed[0]?.at ?? applied;
  const last = failed.at(-1)?.at ?? applied;
  const decided = Date.parse(status.lastRollback?.time ?? '') || last;
  return {
    requests: samples.length,
    failedShare: samples.length === 0 ? 0 : failed.length / samples.length,
    errorSeconds: (last - first) / 1000,
    afterDecisionSeconds: Math.max(0, (last - decided) / 1000),
    ...(canaryGoneAt !== undefined && { canaryGoneSeconds: (canaryGoneAt - first) / 1000 }),
    reason: status.lastRollback?.reason ?? '?',
  };
}

async function main(): Promise<void> {
  await kubectl(['create', 'namespace', namespace, '--dry-run=client', '-o', 'json']).then((ns) =>
    kubectl(['apply', '-f', '-'], ns),
  );
  const rows: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const strategy of ['Rolling', 'Canary'] as const) {
      const o = await badRelease(strategy, round);
      const row = [
        String(round),
        strategy === 'Canary' ? `Canary (1 of ${String(REPLICAS)}, verify)` : 'Rolling',
        String(o.requests),
        `${(o.failedShare * 100).toFixed(1)}%`,
        o.errorSeconds.toFixed(1),
        o.afterDecisionSeconds.toFixed(1),
        o.canaryGoneSeconds === undefined ? '–' : o.canaryGoneSeconds.toFixed(1),
        o.reason,
        loadavg()[0]?.toFixed(1) ?? '?',
      ];
      rows.push(`| ${row.join(' | ')} |`);
      process.stderr.write(`${rows.at(-1) ?? ''}\n`);
    }
  }
  console.log(
    `\n${String(REPLICAS)} replicas, ${String(CLIENTS)} clients; a release whose every /hello request fails\n`,
  );
  console.log(
    '| round | strategy | requests | failed | errors seen (s) | after the decision (s) | first error → last canary pod gone (s) | caught by | load |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

await main();
