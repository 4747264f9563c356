/**
 * The operator at scale, on the local simulated cluster (hack/cluster.sh up), against a floor.
 *
 *   npm run bench:operator                     # builds, then N = 300, 3 create/delete cycles, 120 s idle
 *   node bench/operator.ts --quick             # smoke run: N = 20, 1 cycle, 10 s idle
 *   node bench/operator.ts --n 300 --concurrency 4 --cycles 3 --idle-seconds 120 --timeout-seconds 1200
 *   OPERATOR_NODE_OPTIONS='--max-semi-space-size=4' npm run bench:operator   # other node flags for the operator
 *   OPERATOR_LOG_LEVEL=debug node bench/operator.ts --quick   # the operator logs every status write and why
 *
 * 1. Floor: for each of N instances, the HelloWorld's children (the operator's own pure builders) are
 *    server-side applied directly by the operator's own client, `concurrency` instances at a time,
 *    into a fresh namespace; timed from the first apply to the Deployment being Available.
 * 2. Create: N HelloWorlds applied with the same concurrency; the operator (dist/operator/main.js,
 *    scoped to its namespace with WATCH_NAMESPACE, WORKERS = concurrency) converges them; timed from
 *    the apply to status.phase Available for the current generation.
 * 3. Rollout: the image of all N changes; timed the same way.
 * 4. Steady state: `idle` seconds with nothing changing; writes and reads per minute.
 * 5. Cycles: delete all, create all again, `cycles` times, to show memory does not grow.
 * Requests are counted twice: by the operator (helloworld_kube_writes_total) and by the API server
 * (apiserver_request_total on the operator's resources, minus the benchmark's own requests).
 */
import { cpus, totalmem } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { HelloWorld, HelloWorldSpec } from '../operator/src/crd/types.js';

const here = (path: string): string => new URL(path, import.meta.url).href;
const kube = (await import(here('./operator/kube.ts'))) as typeof import('./operator/kube.js');
const prom = (await import(here('./operator/prom.ts'))) as typeof import('./operator/prom.js');
const { runtime, Tracker, pool, sleep, helloWorldAvailable, helloWorldFailed } = kube;

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number`);
  return value;
}
const quick = process.argv.includes('--quick');
const N = option('n', quick ? 20 : 300);
const CONCURRENCY = option('concurrency', 4);
const CYCLES = option('cycles', quick ? 1 : 3);
const IDLE_SECONDS = option('idle-seconds', quick ? 10 : 120);
const PHASE_TIMEOUT_SECONDS = option('timeout-seconds', 1200);
const IMAGES = ['hello/api:1.0.0', 'hello/api:1.0.1'];
/** The operator runs with the node flags of its Deployment, unless OPERATOR_NODE_OPTIONS says otherwise. */
const NODE_FLAGS = (process.env.OPERATOR_NODE_OPTIONS ?? kube.deployedNodeOptions())
  .split(/\s+/)
  .filter(Boolean);
/** The children of one HelloWorld with managed Redis: Secret, 2 Services, StatefulSet, NetworkPolicy, Deployment, PDB. */
const CHILDREN = 7;
/**
 * Status writes a user needs per create and per rollout: one as the operator takes the new generation
 * on (phase Progressing, observedGeneration, the revision rolling out), one as it ends (Available). The
 * first cannot wait for the second: until it is written, the status describes the previous generation
 * while the pods are already changing. Anything more is progress along the way.
 */
const STATUS_WRITES = 2;

const kc = kube.loadKubeConfig();
const rest = new runtime.rest.HttpKubeRest(kc);
const client = new runtime.kube.KubeClient(rest, runtime.clientOptions.CLIENT_OPTIONS);
const id = randomBytes(3).toString('hex');
const operatorNs = `bench-op-${id}`;
const floorNs = `bench-floor-${id}`;
const names = Array.from({ length: N }, (_, i) => `hw-${String(i).padStart(4, '0')}`);

/**
 * Verification is off: nothing answers HTTP on simulated pods. The progress deadline is 10 minutes, not
 * 2: 300 Deployments rolling at once on a loaded 2-core control plane take longer than 2 minutes each,
 * and a rollback would measure the deadline, not the operator.
 */
const spec = (image: string): HelloWorldSpec => ({
  image,
  replicas: 1,
  rollout: { verification: { enabled: false }, progressDeadlineSeconds: 600 },
});

const apiServerCounts = async (): Promise<Map<string, number>> =>
  prom.requestsByVerb(prom.parseProm(await kube.getText(kc, '/metrics')));

const createNamespace = (name: string): Promise<void> => kube.createNamespace(rest, name, 'operator');
const deleteNamespace = (name: string): Promise<void> => kube.deleteNamespace(rest, name);
const exists = (path: string): Promise<boolean> => kube.exists(rest, path);

async function deleteNamespaceAndWait(name: string): Promise<void> {
  const begun = performance.now();
  await deleteNamespace(name);
  for (;;) {
    if (!(await exists(`/api/v1/namespaces/${name}`))) break;
    if (performance.now() - begun > PHASE_TIMEOUT_SECONDS * 1000) {
      throw new Error(`namespace ${name} still exists after ${String(PHASE_TIMEOUT_SECONDS)} s`);
    }
    await sleep(1000);
  }
  process.stderr.write(`floor: namespace deleted in ${prom.seconds(performance.now() - begun)}\n`);
}

/** Enough simulated pod slots for N API pods, N Redis pods and one surge pod each during the rollout? */
async function checkCapacity(): Promise<void> {
  const nodes = await rest.request<{ items: { status?: { allocatable?: Record<string, string> } }[] }>(
    'GET',
    '/api/v1/nodes',
  );
  const slots = nodes.items.reduce((acc, n) => acc + Number(n.status?.allocatable?.pods ?? 0), 0);
  if (slots < 3 * N + 20) {
    process.stderr.write(
      `warning: the nodes have ${String(slots)} pod slots; ${String(3 * N)} pods run during the rollout.\n` +
        '  Raise status.allocatable.pods of the kwok nodes (hack/cluster/nodes.yaml) or lower --n.\n',
    );
  }
}

const times = (started: Map<string, number>, met: Map<string, number>): number[] =>
  [...met].map(([name, at]) => at - (started.get(name) ?? at));

interface Timed {
  totalMs: number;
  perItem: number[];
  /** Instances that ended Failed or RolledBack, or had not converged when the phase timed out. */
  failed: number;
  timedOut: number;
}

/** Runs `start(name)` for every name with the concurrency, then waits for the tracker's predicate. */
async function timed(
  tracker: InstanceType<typeof Tracker>,
  predicate: (obj: KubernetesObject) => boolean,
  start: (name: string) => Promise<void>,
): Promise<Timed> {
  const begun = performance.now();
  const started = new Map<string, number>();
  const waiting = tracker.expect(names, predicate, helloWorldFailed, PHASE_TIMEOUT_SECONDS * 1000);
  await pool(names, CONCURRENCY, async (name) => {
    started.set(name, performance.now());
    await start(name);
  });
  const { met, failed, pending } = await waiting;
  const end = pending.size > 0 ? performance.now() : Math.max(...met.values());
  return { totalMs: end - begun, perItem: times(started, met), failed: failed.size, timedOut: pending.size };
}

function deploymentAvailable(obj: KubernetesObject): boolean {
  const d = obj as {
    metadata?: { generation?: number };
    spec?: { replicas?: number };
    status?: Record<string, number>;
  };
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    s.updatedReplicas === want &&
    s.availableReplicas === want &&
    s.replicas === want
  );
}

/** The children the operator would create for `name`, applied directly (no owner: nothing owns them). */
async function applyFloorChildren(name: string): Promise<void> {
  const hw: HelloWorld = {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name, namespace: floorNs, uid: '00000000-0000-0000-0000-000000000000', generation: 1 },
    spec: spec(IMAGES[0] ?? ''),
  };
  const resolved = runtime.defaults.resolveSpec(hw.spec);
  const password = randomBytes(24).toString('base64url');
  const desired = runtime.builders.desiredState(hw, resolved, {
    redis: { password, checksum: password.slice(0, 16) },
    prometheusOperatorInstalled: false,
  });
  for (const obj of desired.apply) {
    if (obj.metadata) delete obj.metadata.ownerReferences;
    await client.applyIfNeeded(obj, undefined);
  }
}

const applyHelloWorld = (name: string, image: string): Promise<void> =>
  kube.applyHelloWorld(rest, operatorNs, name, spec(image));

/** Deletes every HelloWorld and waits until the garbage collector removed their Deployments. */
async function deleteAll(deployments: InstanceType<typeof Tracker>): Promise<number> {
  const begun = performance.now();
  // A delete collection of hundreds of objects can take longer than the client's default 30 s, and
  // on a loaded machine longer than the API server's own request timeout (60 s), which then ends the
  // request with what it deleted so far: ask again until the collection is empty.
  for (let attempt = 1; ; attempt++) {
    try {
      await rest.request('DELETE', `/apis/hello.dev/v1alpha1/namespaces/${operatorNs}/helloworlds`, {
        timeoutMs: PHASE_TIMEOUT_SECONDS * 1000,
      });
      break;
    } catch (error) {
      if (attempt === 5) throw error;
      process.stderr.write(`delete collection, attempt ${String(attempt)}: ${String(error)}; again\n`);
    }
  }
  while (deployments.count() > 0) await sleep(200);
  return performance.now() - begun;
}

interface Phase {
  writes: Map<string, number>;
  operatorWrites: number;
  /** The operator's writes by `verb kind`. */
  byKind: Map<string, number>;
}

async function measure<T>(
  operator: Awaited<ReturnType<typeof kube.startOperator>>,
  run: () => Promise<T>,
): Promise<T & Phase> {
  const [apiBefore, opBefore] = [await apiServerCounts(), prom.parseProm(await operator.metrics())];
  const result = await run();
  const [apiAfter, opAfter] = [await apiServerCounts(), prom.parseProm(await operator.metrics())];
  const operatorWrites =
    prom.sum(opAfter, 'helloworld_kube_writes_total') - prom.sum(opBefore, 'helloworld_kube_writes_total');
  const byKind = prom.delta(prom.writesByKind(opAfter), prom.writesByKind(opBefore));
  return { ...result, writes: prom.delta(apiAfter, apiBefore), operatorWrites, byKind };
}

async function main(): Promise<void> {
  await kube.checkCrd(rest, 'bench:operator');
  await checkCapacity();
  await createNamespace(floorNs);
  await createNamespace(operatorNs);
  const floorTracker = new Tracker(kc, `/apis/apps/v1/namespaces/${floorNs}/deployments`);
  const hwTracker = new Tracker(kc, `/apis/hello.dev/v1alpha1/namespaces/${operatorNs}/helloworlds`);
  const deployments = new Tracker(kc, `/apis/apps/v1/namespaces/${operatorNs}/deployments`);
  await Promise.all([floorTracker.start(), hwTracker.start(), deployments.start()]);
  const logFile = `/tmp/bench-operator-${id}.log`;
  const kubeconfig = process.env.KUBECONFIG ?? `${kube.ROOT}.cluster/kubeconfig`;
  const operator = await kube
    .startOperator({
      namespace: operatorNs,
      workers: CONCURRENCY,
      logFile,
      kubeconfig,
      nodeFlags: NODE_FLAGS,
    })
    .catch(async (error: unknown) => {
      await Promise.all([floorTracker.stop(), hwTracker.stop(), deployments.stop()]);
      await Promise.all([deleteNamespace(floorNs), deleteNamespace(operatorNs)]);
      throw error;
    });
  const interrupted = async (): Promise<void> => {
    await operator.stop();
    await Promise.all([deleteNamespace(floorNs), deleteNamespace(operatorNs)]);
    process.exit(130);
  };
  process.once('SIGINT', () => void interrupted());
  process.once('SIGTERM', () => void interrupted());
  // Sampled through the run: another operator reconciling these HelloWorlds makes the figures void.
  const intruders = new Set<number>();
  const watchIntruders = setInterval(() => {
    for (const pid of kube.clusterWideOperators(operator.child.pid, kubeconfig)) intruders.add(pid);
  }, 1000);
  const cpuAt = async (): Promise<number> =>
    prom.sum(prom.parseProm(await operator.metrics()), 'process_cpu_seconds_total');
  const opStart = prom.parseProm(await operator.metrics());
  try {
    process.stderr.write(`floor: ${String(N)} × ${String(CHILDREN)} children into ${floorNs}\n`);
    const floorApiBefore = await apiServerCounts();
    const floor = await timed(floorTracker, deploymentAvailable, applyFloorChildren);
    const floorWrites = prom.delta(await apiServerCounts(), floorApiBefore);
    note('floor', floor, prom.total(floorWrites, prom.WRITE_VERBS));
    // The floor's pods would hold node slots the operator's phases need; its namespace is gone before
    // they start, so the namespace controller's deletes do not land in their figures.
    await floorTracker.stop();
    await deleteNamespaceAndWait(floorNs);

    const cycles: { convergeMs: number; deleteMs: number; rss: number; peak: number }[] = [];
    process.stderr.write(`create: ${String(N)} HelloWorlds in ${operatorNs}\n`);
    const create = await measure(operator, () =>
      timed(hwTracker, helloWorldAvailable(IMAGES[0] ?? ''), (name) =>
        applyHelloWorld(name, IMAGES[0] ?? ''),
      ),
    );
    note('create', create, create.operatorWrites, create.byKind);
    process.stderr.write('rollout: new image for all\n');
    const rollout = await measure(operator, () =>
      timed(hwTracker, helloWorldAvailable(IMAGES[1] ?? ''), (name) =>
        applyHelloWorld(name, IMAGES[1] ?? ''),
      ),
    );
    note('rollout', rollout, rollout.operatorWrites, rollout.byKind);
    process.stderr.write(`steady state: ${String(IDLE_SECONDS)} s idle\n`);
    await sleep(5000); // let the last status writes and informer events settle
    const idle = await measure(operator, () => sleep(IDLE_SECONDS * 1000).then(() => ({})));
    process.stderr.write(
      `steady state: operator writes ${String(idle.operatorWrites)}, API server ${prom.describeVerbs(idle.writes, [...prom.WRITE_VERBS, ...prom.READ_VERBS])}\n`,
    );
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const convergeMs =
        cycle === 1
          ? create.totalMs
          : (
              await timed(hwTracker, helloWorldAvailable(IMAGES[0] ?? ''), (name) =>
                applyHelloWorld(name, IMAGES[0] ?? ''),
              )
            ).totalMs;
      const deleteMs = await deleteAll(deployments);
      cycles.push({ convergeMs, deleteMs, ...operator.memory() });
      process.stderr.write(
        `cycle ${String(cycle)}: converged in ${prom.seconds(convergeMs)}, deleted in ${prom.seconds(deleteMs)}, ` +
          `RSS ${prom.mib(operator.memory().rss)}, peak ${prom.mib(operator.memory().peak)}\n`,
      );
    }
    const opEnd = prom.parseProm(await operator.metrics());
    const cpu = (await cpuAt()) - prom.sum(opStart, 'process_cpu_seconds_total');
    const reconcile = prom.histogramDelta(opEnd, opStart, 'helloworld_reconcile_duration_seconds');
    const reconciles =
      prom.sum(opEnd, 'helloworld_reconcile_total') - prom.sum(opStart, 'helloworld_reconcile_total');

    const W = prom.WRITE_VERBS;
    const R = prom.READ_VERBS;
    const perMinute = (n: number): string => (n / (IDLE_SECONDS / 60)).toFixed(1);
    const createServerWrites = prom.total(create.writes, W) - N; // minus the benchmark's HelloWorld applies
    const rolloutServerWrites = prom.total(rollout.writes, W) - N;
    const rows: [string, string][] = [
      [
        `operator at scale: N = ${String(N)}, concurrency ${String(CONCURRENCY)}`,
        `${String(cpus().length)} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
      ],
      [
        'operator node flags',
        `${NODE_FLAGS.join(' ') || '(none)'} (${process.env.OPERATOR_NODE_OPTIONS === undefined ? 'NODE_OPTIONS of config/manager' : 'OPERATOR_NODE_OPTIONS'})`,
      ],
      ['', ''],
      ['floor: all Available', prom.seconds(floor.totalMs)],
      [
        'floor: p50 / p99 per instance',
        `${prom.seconds(prom.percentile(floor.perItem, 50))} / ${prom.seconds(prom.percentile(floor.perItem, 99))}`,
      ],
      ['create: all Available', prom.seconds(create.totalMs)],
      [
        'create: p50 / p99 per instance',
        `${prom.seconds(prom.percentile(create.perItem, 50))} / ${prom.seconds(prom.percentile(create.perItem, 99))}`,
      ],
      ['create time / floor time', prom.ratio(create.totalMs, floor.totalMs)],
      ['create: failed / not converged', outcome(create)],
      ['create: operator writes', describeWrites(create.operatorWrites, N * (CHILDREN + STATUS_WRITES))],
      ['create: operator writes by kind', prom.describeVerbs(create.byKind, [...create.byKind.keys()])],
      [
        'create: API server writes (floor)',
        `${String(createServerWrites)} (${String(prom.total(floorWrites, W))}) = ${prom.ratio(createServerWrites, prom.total(floorWrites, W))}`,
      ],
      ['create: API server writes by verb', prom.describeVerbs(create.writes, W)],
      ['', ''],
      ['rollout: all Available', prom.seconds(rollout.totalMs)],
      [
        'rollout: p50 / p99 per instance',
        `${prom.seconds(prom.percentile(rollout.perItem, 50))} / ${prom.seconds(prom.percentile(rollout.perItem, 99))}`,
      ],
      ['rollout: failed / not converged', outcome(rollout)],
      ['rollout: operator writes', describeWrites(rollout.operatorWrites, N * (1 + STATUS_WRITES))],
      ['rollout: operator writes by kind', prom.describeVerbs(rollout.byKind, [...rollout.byKind.keys()])],
      ['rollout: API server writes', String(rolloutServerWrites)],
      ['', ''],
      ['steady state: operator writes / min', perMinute(idle.operatorWrites)],
      ['steady state: API server writes / min', perMinute(prom.total(idle.writes, W))],
      [
        'steady state: API server reads / min',
        `${perMinute(prom.total(idle.writes, R))} (${prom.describeVerbs(idle.writes, R)})`,
      ],
      ['', ''],
      ...cycles.map((c, i): [string, string] => [
        `cycle ${String(i + 1)}: converge / delete / RSS after`,
        `${prom.seconds(c.convergeMs)} / ${prom.seconds(c.deleteMs)} / ${prom.mib(c.rss)}`,
      ]),
      ['operator peak RSS', prom.mib(operator.memory().peak)],
      ['operator CPU', `${cpu.toFixed(1)} s`],
      [
        'reconciles / p99',
        `${String(reconciles)} / ${(prom.histogramQuantile(reconcile, 0.99) * 1000).toFixed(0)} ms`,
      ],
    ];
    if (intruders.size > 0) {
      rows.push([
        'WARNING: cluster-wide operators also ran',
        `pids ${[...intruders].join(', ')}: they reconciled these HelloWorlds too; run again`,
      ]);
    }
    process.stdout.write(`\n${prom.table(rows)}\n\noperator log: ${logFile}\n`);
  } finally {
    clearInterval(watchIntruders);
    await operator.stop();
    await Promise.all([floorTracker.stop(), hwTracker.stop(), deployments.stop()]);
    await Promise.all([deleteNamespace(floorNs), deleteNamespace(operatorNs)]);
  }
}

/** One phase's figures on stderr as soon as it ends, so an interrupted run still tells something. */
function note(phase: string, t: Timed, writes: number, byKind?: Map<string, number>): void {
  const kinds = byKind === undefined ? '' : ` (${prom.describeVerbs(byKind, [...byKind.keys()])})`;
  process.stderr.write(
    `${phase}: all in ${prom.seconds(t.totalMs)}, p50 ${prom.seconds(prom.percentile(t.perItem, 50))}, ` +
      `p99 ${prom.seconds(prom.percentile(t.perItem, 99))}, failed/not converged ${outcome(t)}, writes ${String(writes)}${kinds}\n`,
  );
}

function outcome(t: Timed): string {
  return `${String(t.failed)} / ${String(t.timedOut)}${t.timedOut > 0 ? ` (after ${String(PHASE_TIMEOUT_SECONDS)} s)` : ''}`;
}

function describeWrites(writes: number, minimum: number): string {
  return `${String(writes)} (minimum ${String(minimum)}) = ${prom.ratio(writes, minimum)}`;
}

await main();
