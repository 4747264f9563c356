// The e2e suite drives a cluster the way a user does: kubectl apply of YAML, kubectl wait, kubectl get
// -o jsonpath, events. This module holds what every e2e file shares: what the cluster is (its nodes
// say whether pods really run) and where the operator runs (E2E_OPERATOR), both from cluster-facts.ts;
// kubectl without blocking the event loop, and waits whose failure message shows what the cluster showed: status, events, pods, the
// operator's log.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import type { HelloWorldSpec } from '../../operator/src/crd/types.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  repoRoot,
  waitFor,
} from '../support/cluster.js';
import { buildOnce, installCrd, startOperator, type OperatorProcess } from '../support/operator.js';
import { operatorMode, realPods, systemNamespace } from './cluster-facts.js';

export {
  clusterHasRealNodes,
  isSimulatedNode,
  operatorMode,
  realPods,
  systemNamespace,
} from './cluster-facts.js';

const operatorLabels = 'app.kubernetes.io/name=helloworld-operator,app.kubernetes.io/component=operator';

export const realPodsSkipReason =
  "the cluster's nodes are simulated (kwok): no container runs, so there is no HTTP traffic, Redis " +
  'data or CPU load to observe; run `make e2e-real` (a real node here) or `make e2e` (kind) for these';

/** The API image on a cluster with real pods (`make e2e` loads it into kind). */
export const apiImage = process.env.E2E_API_IMAGE ?? 'helloworld-api:dev';

/**
 * Registers a describe block of scenarios that need real pods. On a simulated cluster they are
 * registered with it.skip, so Jest reports them as skipped, and the reason is printed once.
 */
export function describeRealPods(title: string, body: (test: jest.It) => void): void {
  describe(title, () => {
    // Straight to stderr: Jest drops the console output of a file whose tests are all skipped.
    if (!realPods) process.stderr.write(`\n${title}: skipped: ${realPodsSkipReason}\n`);
    body(realPods ? it : it.skip);
  });
}

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against the test cluster without blocking the event loop (the operator's pipes keep draining). */
export function run(args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfigPath(), ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** kubectl that must succeed; throws with its output. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await run(args, input);
  if (result.code !== 0) {
    throw new Error(
      `kubectl ${args.join(' ')} failed (${String(result.code)}): ${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

/** `kubectl apply -f -` of objects serialised as YAML, as a user's manifest would be. */
export function applyYaml(namespace: string, ...objects: object[]): Promise<string> {
  return kubectl(['apply', '-n', namespace, '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
}

/** `kubectl get -o jsonpath`; '' when the object or the field does not exist. */
export async function jsonpath(namespace: string, target: string, path: string): Promise<string> {
  const result = await run(['get', target, '-n', namespace, '-o', `jsonpath=${path}`]);
  return result.code === 0 ? result.stdout : '';
}

/** True when `kubectl get` finds the object. */
export async function exists(namespace: string, target: string): Promise<boolean> {
  const result = await run(['get', target, '-n', namespace, '-o', 'name']);
  if (result.code === 0) return true;
  if (/NotFound|not found/.test(result.stderr)) return false;
  throw new Error(`kubectl get ${target} failed: ${result.stderr}`);
}

/** The reasons of the events of one object, oldest first. */
export async function eventReasons(namespace: string, name: string, kind = 'HelloWorld'): Promise<string[]> {
  const out = await kubectl([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    `involvedObject.name=${name},involvedObject.kind=${kind}`,
    '--sort-by=.metadata.creationTimestamp',
    '-o',
    'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
  ]);
  return out.split('\n').filter((r) => r !== '');
}

/** The operator the suite talks to: a local process, or the Deployment that `make e2e` installed. */
export interface OperatorUnderTest {
  /** The last lines of the (leading) operator's log, for failure messages. */
  tail(lines?: number): Promise<string>;
  /** The (leading) operator's /metrics text. */
  metrics(): Promise<string>;
  /** Stops a local process; leaves an in-cluster operator running. */
  stop(): Promise<void>;
}

/** A local operator process wrapped as an OperatorUnderTest. */
export function localOperator(process: OperatorProcess): OperatorUnderTest {
  return {
    tail: (lines = 40) => Promise.resolve(process.tail(lines)),
    metrics: async () => {
      try {
        return await process.metrics();
      } catch (error) {
        const state =
          process.child.exitCode === null ? 'running' : `exited (${String(process.child.exitCode)})`;
        throw new Error(
          `the operator's /metrics did not answer; it is ${state}; its log:\n${process.tail(40)}`,
          {
            cause: error,
          },
        );
      }
    },
    stop: async () => {
      await process.stop();
    },
  };
}

/**
 * The in-cluster operator pod that holds the leader Lease ('' when none does). The holder's identity
 * is `<pod name>_<random suffix>`, as controller-runtime's; pod names never contain '_'.
 */
export async function leaderPod(): Promise<string> {
  const holder = await jsonpath(systemNamespace, 'lease/helloworld-operator', '{.spec.holderIdentity}');
  return holder.split('_')[0] ?? '';
}

function inClusterOperator(): OperatorUnderTest {
  const pod = async (): Promise<string> =>
    (await leaderPod()) ||
    (await kubectl(['get', 'pods', '-n', systemNamespace, '-l', operatorLabels, '-o', 'name']))
      .split('\n')[0]!
      .replace('pod/', '');
  return {
    tail: async (lines = 40) => {
      const result = await run(['logs', '-n', systemNamespace, await pod(), `--tail=${lines}`]);
      return result.stdout + result.stderr;
    },
    metrics: async () =>
      kubectl([
        'get',
        '--raw',
        `/api/v1/namespaces/${systemNamespace}/pods/${await pod()}:8081/proxy/metrics`,
      ]),
    stop: () => Promise.resolve(),
  };
}

/**
 * What each e2e file starts with: the CRD, the operator (started here when local, checked when in
 * cluster) and a namespace of its own. `cleanup` deletes the namespace and stops a local operator.
 */
export interface E2eContext {
  namespace: string;
  operator: OperatorUnderTest;
  cleanup(): Promise<void>;
}

const suiteStart = Number(process.env.E2E_STARTED_AT ?? Date.now());

/**
 * Starts the operator as a local process that serves `namespace` only, with leader election on a Lease
 * there: as in production, and on a cluster shared with other suites neither their HelloWorlds nor
 * their operators get in its way.
 */
export function startLocalOperator(namespace: string): Promise<OperatorProcess> {
  return startOperator({
    env: {
      LEADER_ELECTION: 'true',
      LEASE_NAMESPACE: namespace,
      LEASE_NAME: 'helloworld-operator',
      WATCH_NAMESPACE: namespace,
    },
  });
}

/**
 * `startOperator: false` leaves starting a local operator to the test file (which then sets
 * `ctx.operator`); the in-cluster operator is always there.
 */
export async function setUp(prefix: string, options: { startOperator?: boolean } = {}): Promise<E2eContext> {
  const fileStart = Date.now();
  const namespace = await createTestNamespace(`e2e-${prefix}`);
  let operator: OperatorUnderTest;
  if (operatorMode === 'local') {
    if (process.env.E2E_BUILT !== '1') buildOnce();
    installCrd();
    operator =
      options.startOperator === false
        ? {
            tail: () => Promise.resolve(''),
            metrics: () => Promise.resolve(''),
            stop: () => Promise.resolve(),
          }
        : localOperator(await startLocalOperator(namespace));
  } else {
    await kubectl([
      'wait',
      '--for=condition=Available',
      '--timeout=120s',
      '-n',
      systemNamespace,
      'deployment/helloworld-operator',
    ]);
    operator = inClusterOperator();
  }
  const context: E2eContext = {
    namespace,
    operator,
    cleanup: async () => {
      await context.operator.stop();
      await deleteTestNamespace(namespace);
      const took = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        `e2e ${prefix}: ${took(Date.now() - fileStart)} for this file, ${took(Date.now() - suiteStart)} since the suite started`,
      );
    },
  };
  return context;
}

/**
 * This file's context for scenarios that need real pods: set up before its tests (its namespace, and the
 * operator when local) only where pods really run, cleaned up after them. Call at the top of the file.
 */
export function realPodsContext(prefix: string): () => E2eContext {
  let ctx: E2eContext | undefined;
  beforeAll(async () => {
    if (realPods) ctx = await setUp(prefix);
  }, 180_000);
  afterAll(async () => {
    await ctx?.cleanup();
  }, 120_000);
  return () => {
    if (ctx === undefined) throw new Error(`e2e ${prefix}: no context: the cluster has no real pods`);
    return ctx;
  };
}

/** A HelloWorld object as a user writes it. */
export function helloWorld(namespace: string, name: string, spec: Partial<HelloWorldSpec> = {}): object {
  return {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name, namespace },
    spec: userSpec(spec),
  };
}

/**
 * A spec that fits the cluster: on simulated nodes no HTTP reaches a pod, so verification is off and
 * the deadline short (rollout health still applies); with real pods, verification runs with a short
 * analysis window so that the suite stays quick.
 */
export function userSpec(spec: Partial<HelloWorldSpec>): HelloWorldSpec {
  const rollout = spec.rollout ?? {};
  if (!realPods) {
    return {
      image: 'hello/api:1.0.0',
      replicas: 2,
      ...spec,
      rollout: { progressDeadlineSeconds: 20, ...rollout, verification: { enabled: false } },
    };
  }
  // Where no registry serves the default Redis image (the local real node), the one loaded there.
  const redisImage = process.env.E2E_REDIS_IMAGE;
  const redis =
    redisImage !== undefined && spec.redis?.mode !== 'External'
      ? { ...spec.redis, image: spec.redis?.image ?? redisImage }
      : spec.redis;
  return {
    image: apiImage,
    replicas: 2,
    ...spec,
    ...(redis === undefined ? {} : { redis }),
    rollout: {
      progressDeadlineSeconds: 120,
      ...rollout,
      verification: {
        ...rollout.verification,
        // The smoke checks' latency budget defaults to the p99 SLO plus 200 ms (450 ms). CI machines run
        // the cluster, its pods and the load on two cores, where a healthy answer through the API server
        // proxy can take longer: 2 s here, unless a test sets its own.
        smoke: { maxLatencyMs: 2000, ...rollout.verification?.smoke },
        analysis: { windowSeconds: 20, intervalSeconds: 5, ...rollout.verification?.analysis },
      },
    },
  };
}

/** A value unique to this run, e.g. for the retry annotation. */
export const token = (): string => randomBytes(4).toString('hex');

/** Everything a failed wait should show: the object's status and events, the pods, the operator's log. */
export async function diagnose(ctx: E2eContext, name: string): Promise<string> {
  const [status, events, pods, log] = await Promise.all([
    run(['get', 'hw', name, '-n', ctx.namespace, '-o', 'jsonpath={.status}']),
    run(['get', 'events', '-n', ctx.namespace, '--sort-by=.metadata.creationTimestamp']),
    run(['get', 'pods', '-n', ctx.namespace, '-o', 'wide', '--show-labels']),
    ctx.operator.tail(400),
  ]);
  // The operator watches every namespace: keep its process-wide lines and those about this test's.
  const relevant = log
    .split('\n')
    .filter((line) => !line.includes('"namespace":"') || line.includes(`"namespace":"${ctx.namespace}"`))
    .slice(-40)
    .map((line) => (line.length > 600 ? `${line.slice(0, 600)}…` : line))
    .join('\n');
  const pretty = (text: string): string => {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  };
  return [
    `status of hw/${name}:\n${pretty(status.stdout) || status.stderr}`,
    `events in ${ctx.namespace} (last 25):\n${events.stdout.trim().split('\n').slice(-25).join('\n')}`,
    `pods:\n${pods.stdout}${pods.stderr}`,
    `operator log (last lines about ${ctx.namespace}):\n${relevant}`,
  ].join('\n\n');
}

/**
 * `kubectl wait --for=<condition> hw/<name>`; on timeout throws an error with what was expected and
 * what the cluster showed.
 */
export async function waitHelloWorld(
  ctx: E2eContext,
  name: string,
  condition: string,
  timeoutSeconds = 150,
): Promise<void> {
  const result = await run([
    'wait',
    `--for=${condition}`,
    `--timeout=${timeoutSeconds}s`,
    '-n',
    ctx.namespace,
    `hw/${name}`,
  ]);
  if (result.code !== 0) {
    throw new Error(
      `expected hw/${name} to reach ${condition} within ${timeoutSeconds} s: ${result.stderr.trim()}\n\n${await diagnose(ctx, name)}`,
    );
  }
}

/** waitFor with the HelloWorld's diagnosis appended to the timeout message. */
export async function eventually<T>(
  ctx: E2eContext,
  name: string,
  describe: string,
  predicate: () => Promise<T | undefined | null | false>,
  timeoutMs = 120_000,
): Promise<T> {
  try {
    return await waitFor(predicate, { describe, timeoutMs, intervalMs: 1000 });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n\n${await diagnose(ctx, name)}`, { cause: error });
  }
}

export { repoRoot };
