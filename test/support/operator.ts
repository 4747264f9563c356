// Helpers for tests that drive HelloWorlds on a cluster: install the CRD, run the operator as a real
// process (dist/operator/main.js), apply and read HelloWorlds, and wait on their status.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { HelloWorld, HelloWorldSpec } from '../../operator/src/crd/types.js';
import { freePort } from './ports.js';
import { createTestNamespace, deleteTestNamespace, kubeconfigPath, repoRoot, waitFor } from './cluster.js';

/** Runs kubectl against the test cluster; throws with its output when it fails. */
export function kubectl(args: string[], input?: string): string {
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath(), ...args], {
    cwd: repoRoot,
    input,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(
      `kubectl ${args.join(' ')} failed (${String(result.status)}): ${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

/** Reads one object with kubectl as JSON. */
export function kubectlGet(kind: string, name: string, namespace: string): KubernetesObject {
  return JSON.parse(kubectl(['get', kind, name, '-n', namespace, '-o', 'json'])) as KubernetesObject;
}

/** The events in `namespace` that match a field selector, e.g. `involvedObject.name=hello,type=Warning`. */
export function events(
  namespace: string,
  fieldSelector: string,
): { type?: string; reason?: string; message?: string }[] {
  const list = JSON.parse(
    kubectl(['get', 'events', '-n', namespace, '--field-selector', fieldSelector, '-o', 'json']),
  ) as { items: { type?: string; reason?: string; message?: string }[] };
  return list.items;
}

/** Builds the TypeScript once per test file that needs the operator process. */
export function buildOnce(): void {
  const result = spawnSync('npx', ['tsc', '-b'], { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc -b failed: ${result.stdout}${result.stderr}`);
}

export function installCrd(): void {
  kubectl(['apply', '--server-side', '--force-conflicts', '-f', 'crds/']);
  kubectl(['wait', '--for', 'condition=Established', '--timeout=60s', 'crd/helloworlds.hello.dev']);
}

export interface OperatorProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process logged so far. */
  logs(): string;
  /** The last lines of its log, for failure messages. */
  tail(lines?: number): string;
  /** Its /metrics text. */
  metrics(): Promise<string>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, no lease released. */
  kill(): Promise<void>;
}

export interface OperatorOptions {
  env?: Record<string, string>;
  kubeconfig?: string;
}

/** Starts dist/operator/main.js against the test cluster and waits until it serves /healthz. */
export async function startOperator(options: OperatorOptions = {}): Promise<OperatorProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/operator/main.js'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      KUBECONFIG: options.kubeconfig ?? kubeconfigPath(),
      METRICS_PORT: String(port),
      LEASE_NAMESPACE: 'default',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  const handle: OperatorProcess = {
    port,
    child,
    logs: () => output,
    tail: (lines = 30) => output.trim().split('\n').slice(-lines).join('\n'),
    metrics: async () => (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text(),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`operator exited ${String(child.exitCode)}: ${handle.tail()}`);
      return (await fetch(`http://127.0.0.1:${String(port)}/healthz`)).ok;
    },
    { describe: 'the operator to serve /healthz', timeoutMs: 20_000 },
  );
  return handle;
}

/** The value of one metric series (summed over matching label sets), 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) total += Number(match[3]);
  }
  return total;
}

export function helloWorld(namespace: string, name: string, spec: Partial<HelloWorldSpec>): HelloWorld {
  return {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name, namespace },
    spec: { image: 'hello/api:1.0.0', ...spec },
  };
}

/**
 * A spec for the simulated cluster: no HTTP reaches simulated pods, so verification is off (rollout
 * health still applies) and the deadline is short.
 */
export function simulatedSpec(spec: Partial<HelloWorldSpec> = {}): Partial<HelloWorldSpec> {
  return {
    replicas: 2,
    ...spec,
    rollout: { progressDeadlineSeconds: 20, ...spec.rollout, verification: { enabled: false } },
  };
}

export function applyHelloWorld(hw: HelloWorld): void {
  kubectl(['apply', '--server-side', '--field-manager', 'test-user', '-f', '-'], JSON.stringify(hw));
}

export async function getHelloWorld(kc: KubeConfig, namespace: string, name: string): Promise<HelloWorld> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return (await api.getNamespacedCustomObject({
    group: 'hello.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'helloworlds',
    name,
  })) as HelloWorld;
}

/** Waits until the HelloWorld's status satisfies `check`; the failure message shows the last status. */
export async function waitForHelloWorld(
  kc: KubeConfig,
  namespace: string,
  name: string,
  check: (hw: HelloWorld) => boolean,
  describe: string,
  options: { timeoutMs?: number; operator?: OperatorProcess } = {},
): Promise<HelloWorld> {
  let last: HelloWorld | undefined;
  try {
    return await waitFor(
      async () => {
        last = await getHelloWorld(kc, namespace, name);
        return check(last) ? last : false;
      },
      { describe, timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 500 },
    );
  } catch (error) {
    const status = JSON.stringify(last?.status ?? {}, null, 2);
    const logs = options.operator ? `\noperator log:\n${options.operator.tail()}` : '';
    throw new Error(`${(error as Error).message}\nlast status: ${status}${logs}`, { cause: error });
  }
}

export function conditionOf(
  hw: HelloWorld,
  type: string,
): { status: string; reason: string; message: string } | undefined {
  return hw.status?.conditions?.find((c) => c.type === type);
}

/** What most integration files start with: a namespace of their own and an operator serving only it. */
export interface OperatorInNamespace {
  namespace: string;
  operator: OperatorProcess;
  /**
   * Stops the operator (which must exit 0: a clean shutdown) and deletes the namespace. A file that
   * replaced the operator (a restart) passes the one it holds now.
   */
  readonly cleanup: (current?: OperatorProcess) => Promise<void>;
}

/**
 * Builds the operator once, installs the CRD, creates the namespace `<prefix>-<random>` and starts an
 * operator process scoped to it with leader election off (`env` adds to or overrides that).
 */
export async function operatorInNamespace(
  prefix: string,
  env: Record<string, string> = {},
): Promise<OperatorInNamespace> {
  buildOnce();
  installCrd();
  const namespace = await createTestNamespace(prefix);
  const operator = await startOperator({
    env: { LEADER_ELECTION: 'false', WATCH_NAMESPACE: namespace, ...env },
  });
  return {
    namespace,
    operator,
    cleanup: async (current = operator) => {
      const code = await current.stop();
      await deleteTestNamespace(namespace);
      if (code !== 0) throw new Error(`the operator exited with ${String(code)} on SIGTERM, not 0`);
    },
  };
}
