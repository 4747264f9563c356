/**
 * The operator against tenants' hostile pods, side by side with well-behaved ones, on the local
 * simulated cluster (hack/cluster.sh up). A benchmark: it prints a table and asserts nothing.
 *
 *   npm run bench:hostile                      # builds, then N = 30, 180 s per phase
 *   node bench/hostile.ts --n 30 --replicas 2 --hold-seconds 180 --settle-seconds 30
 *
 * Two phases, each with a fresh operator process (dist/operator/main.js, scoped to a fresh namespace) so
 * that its peak memory is the phase's own:
 *   baseline  N HelloWorlds with verification on (default smoke checks and metrics analysis), whose
 *             pods answer like the API;
 *   hostile   the same N HelloWorlds (the same spec), whose pods never answer, send 5 MiB bodies, stream endlessly, drip
 *             one byte a second, or export 5,000 histogram bounds and huge label sets in /metrics.
 * In each, `settle` seconds after the N are applied (verification under way), a bystander HelloWorld
 * (verification off) changes its image; its time to converge is what another tenant would see. The
 * phase lasts `hold` seconds from the N applies; then the operator's RSS, peak RSS (VmHWM), CPU seconds
 * and the largest HelloWorld status are read.
 */
import { loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { HelloWorldSpec } from '../operator/src/crd/types.js';

const here = (path: string): string => new URL(path, import.meta.url).href;
const kube = (await import(here('./operator/kube.ts'))) as typeof import('./operator/kube.js');
const prom = (await import(here('./operator/prom.ts'))) as typeof import('./operator/prom.js');
const pods = (await import(here('./operator/pods.ts'))) as typeof import('./operator/pods.js');
const { proxyableLocalAddress } = (await import(
  here('../test/support/pods.ts')
)) as typeof import('../test/support/pods.js');

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number`);
  return value;
}
const N = option('n', 30);
const REPLICAS = option('replicas', 2);
const HOLD_SECONDS = option('hold-seconds', 180);
const SETTLE_SECONDS = option('settle-seconds', 30);
const WORKERS = 4;
const API_PORT = 8080;
const BYSTANDER = 'bystander';
const IMAGES = ['hello/api:1.0.0', 'hello/api:1.0.1'] as const;
const NODE_FLAGS = (process.env.OPERATOR_NODE_OPTIONS ?? kube.deployedNodeOptions())
  .split(/\s+/)
  .filter(Boolean);

const kc = kube.loadKubeConfig();
const rest = new kube.runtime.rest.HttpKubeRest(kc);
const kubeconfig = process.env.KUBECONFIG ?? `${kube.ROOT}.cluster/kubeconfig`;
const id = randomBytes(3).toString('hex');
/** IPv6 where the machine has it: integration tests on this machine listen on the IPv4 address's port. */
const address = (() => {
  try {
    return proxyableLocalAddress('IPv6');
  } catch {
    return proxyableLocalAddress('IPv4');
  }
})();

/**
 * The tenant's HelloWorld, the same in both phases: verification on, the default smoke checks with the
 * longest timeout and the most retries the CRD admits (a pod that never answers holds a check for
 * 11 × 300 s but for the smoke run's own deadline), and the default metrics analysis.
 */
const verified = (image: string): HelloWorldSpec => ({
  image,
  replicas: REPLICAS,
  rollout: {
    progressDeadlineSeconds: 600,
    verification: {
      enabled: true,
      smoke: {
        defaultChecks: false,
        checks: kube.runtime.defaults
          .defaultSmokeChecks()
          .map((check) => ({ ...check, timeoutSeconds: 300, retries: 10 })),
      },
    },
  },
});
const bystander = (image: string): HelloWorldSpec => ({
  image,
  replicas: 1,
  rollout: { verification: { enabled: false }, progressDeadlineSeconds: 600 },
});

interface Result {
  rss: number;
  peak: number;
  /** V8's heap in use, and memory outside it (buffers), at the end. */
  heap: number;
  external: number;
  cpu: number;
  bystanderMs: number;
  largestStatus: number;
  /** The N HelloWorlds by phase (and Degraded reason) at the end. */
  outcome: string;
  requests: number;
  maxOpen: number;
}

/** The largest status of the HelloWorlds in `namespace` (compact JSON, bytes), and how the N ended. */
async function endState(namespace: string): Promise<{ largest: number; outcome: string }> {
  type Hw = KubernetesObject & {
    status?: { phase?: string; conditions?: { type: string; status: string; reason?: string }[] };
  };
  const list = await rest.request<{ items: Hw[] }>(
    'GET',
    `/apis/hello.dev/v1alpha1/namespaces/${namespace}/helloworlds`,
  );
  const byOutcome = new Map<string, number>();
  let largest = 0;
  for (const hw of list.items) {
    largest = Math.max(largest, Buffer.byteLength(JSON.stringify(hw.status ?? {})));
    if (hw.metadata?.name === BYSTANDER) continue;
    const degraded = hw.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');
    const key = `${hw.status?.phase ?? 'none'}${degraded?.reason === undefined ? '' : ` (${degraded.reason})`}`;
    byOutcome.set(key, (byOutcome.get(key) ?? 0) + 1);
  }
  return { largest, outcome: prom.describeVerbs(byOutcome, [...byOutcome.keys()]) };
}

async function phase(name: 'baseline' | 'hostile'): Promise<Result> {
  const namespace = `bench-${name}-${id}`;
  const kinds = name === 'baseline' ? ['good'] : pods.HOSTILE_KINDS;
  const names = Array.from(
    { length: N },
    (_, i) => `${kinds[i % kinds.length] ?? ''}-${String(i).padStart(2, '0')}`,
  );
  await kube.createNamespace(rest, namespace, 'hostile');
  const tracker = new kube.Tracker(kc, `/apis/hello.dev/v1alpha1/namespaces/${namespace}/helloworlds`);
  await tracker.start();
  const server = await pods.startPodServer(address, API_PORT);
  const logFile = `/tmp/bench-hostile-${name}-${id}.log`;
  const operator = await kube.startOperator({
    namespace,
    workers: WORKERS,
    logFile,
    kubeconfig,
    nodeFlags: NODE_FLAGS,
  });
  const apiPods = new kube.Tracker(
    kc,
    `/api/v1/namespaces/${namespace}/pods`,
    'app.kubernetes.io/component=api',
  );
  apiPods.onObject((pod) => {
    if (!pod.metadata?.name?.startsWith(BYSTANDER)) pods.pointPod(rest, pod, address);
  });
  await apiPods.start();
  try {
    const converged = (image: string) =>
      tracker.expect(
        [BYSTANDER],
        kube.helloWorldAvailable(image),
        kube.helloWorldFailed,
        HOLD_SECONDS * 1000,
      );
    await kube.applyHelloWorld(rest, namespace, BYSTANDER, bystander(IMAGES[0]));
    await converged(IMAGES[0]);
    process.stderr.write(`${name}: bystander Available; applying ${String(N)} HelloWorlds\n`);
    const begun = performance.now();
    await kube.pool(names, WORKERS, (hw) => kube.applyHelloWorld(rest, namespace, hw, verified(IMAGES[0])));
    await kube.sleep(SETTLE_SECONDS * 1000);
    const changed = performance.now();
    const waiting = converged(IMAGES[1]);
    await kube.applyHelloWorld(rest, namespace, BYSTANDER, bystander(IMAGES[1]));
    const { met } = await waiting;
    const bystanderMs = (met.get(BYSTANDER) ?? Number.NaN) - changed;
    process.stderr.write(`${name}: bystander converged in ${prom.seconds(bystanderMs)}\n`);
    await kube.sleep(Math.max(0, HOLD_SECONDS * 1000 - (performance.now() - begun)));
    const metrics = prom.parseProm(await operator.metrics());
    const cpu = prom.sum(metrics, 'process_cpu_seconds_total');
    const heap = prom.sum(metrics, 'nodejs_heap_size_used_bytes');
    const external = prom.sum(metrics, 'nodejs_external_memory_bytes');
    const { largest, outcome } = await endState(namespace);
    return {
      ...operator.memory(),
      heap,
      external,
      cpu,
      bystanderMs,
      largestStatus: largest,
      outcome,
      ...server.stats(),
    };
  } finally {
    await apiPods.stop();
    await operator.stop();
    await server.close();
    await tracker.stop();
    await kube.deleteNamespace(rest, namespace);
  }
}

async function main(): Promise<void> {
  await kube.checkCrd(rest, 'bench:hostile');
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const loadBefore = load();
  const baseline = await phase('baseline');
  const hostile = await phase('hostile');
  type Measure = 'peak' | 'rss' | 'heap' | 'external' | 'cpu' | 'bystanderMs' | 'largestStatus';
  const compare = (label: string, key: Measure, format: (value: number) => string): [string, string] => [
    label,
    `${format(baseline[key])} | ${format(hostile[key])} | ${prom.ratio(hostile[key], baseline[key])}`,
  ];
  const both = (label: string, value: (r: Result) => string): [string, string] => [
    label,
    `${value(baseline)} | ${value(hostile)}`,
  ];
  const rows: [string, string][] = [
    [
      `N = ${String(N)} HelloWorlds × ${String(REPLICAS)} replicas, ${String(HOLD_SECONDS)} s per phase`,
      'baseline | hostile | hostile / baseline',
    ],
    ['', ''],
    compare('operator peak RSS (VmHWM)', 'peak', prom.mib),
    compare('operator RSS at the end', 'rss', prom.mib),
    compare('operator V8 heap used at the end', 'heap', prom.mib),
    compare('operator external memory at the end', 'external', prom.mib),
    compare('operator CPU', 'cpu', (s) => `${s.toFixed(1)} s`),
    compare('bystander spec change converged in', 'bystanderMs', prom.seconds),
    compare('largest HelloWorld status', 'largestStatus', (b) => `${String(b)} B`),
    both('pod requests / most open at once', (r) => `${String(r.requests)} / ${String(r.maxOpen)}`),
    both('the N at the end', (r) => r.outcome),
    ['', ''],
    ['load average (1, 5, 15 min) before / after', `${loadBefore} / ${load()}`],
    [
      'pods answer at',
      `${address.includes(':') ? `[${address}]` : address}:${String(API_PORT)}; hostile kinds ${pods.HOSTILE_KINDS.join(', ')}`,
    ],
  ];
  process.stdout.write(`\n${prom.table(rows)}\n\noperator logs: /tmp/bench-hostile-*-${id}.log\n`);
}

await main();
