// `kubectl hw` in integration tests (test/integration/kubectl-plugin*.test.ts): the built executable run in a
// child process as kubectl would run it, in a namespace of the test's own with an empty HOME, and
// HelloWorlds whose status the test writes through the status subresource, as anyone allowed to may.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { HelloWorld } from '../../operator/src/crd/types.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  loadKubeConfig,
  repoRoot,
} from './cluster.js';
import { applyHelloWorld, buildOnce, getHelloWorld, helloWorld, installCrd, kubectl } from './operator.js';

const PLUGIN = 'dist/operator/kubectl-hw/main.js';
export const T = (minute: number): string => new Date(Date.UTC(2026, 11, 4, 3, minute)).toISOString();

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  done: Promise<Run>;
  output: () => string;
  errors: () => string;
  interrupt: () => void;
}

export interface PluginNamespace {
  namespace: string;
  kc: KubeConfig;
  /** Runs the plugin to its end; KUBECONFIG is not set, so it reads only what `args` (and `env`) say. */
  hw(args: string[], env?: Record<string, string>): Run;
  /** Starts the plugin; `done` resolves when it exits, `output()` and `errors()` are what it printed so far. */
  hwAsync(args: string[]): Running;
  /** `args` with this namespace and the test cluster's kubeconfig. */
  inNs(...args: string[]): string[];
  /** Writes `status` through the status subresource (a JSON merge patch). */
  writeStatus(name: string, status: Record<string, unknown>): void;
  /** Creates a HelloWorld (no operator serves this namespace) and gives it `status`. */
  created(name: string, status?: Record<string, unknown>): Promise<HelloWorld>;
  cleanup(): Promise<void>;
}

/** Installs the CRD only when it is missing: a newer one on the shared cluster is a superset of this one. */
function ensureCrd(): void {
  const found = spawnSync('kubectl', [
    '--kubeconfig',
    kubeconfigPath(),
    'get',
    'crd',
    'helloworlds.hello.dev',
  ]);
  if (found.status !== 0) installCrd();
}

/** Builds the plugin, makes sure the CRD exists, and creates the namespace `<prefix>-<random>`. */
export async function pluginNamespace(prefix: string): Promise<PluginNamespace> {
  buildOnce();
  ensureCrd();
  const kc = loadKubeConfig();
  // An empty HOME: no ~/.kube/config of the machine's user can answer for a missing flag.
  const home = mkdtempSync(join(tmpdir(), 'kubectl-hw-home-'));
  const namespace = await createTestNamespace(prefix);
  const writeStatus = (name: string, status: Record<string, unknown>): void => {
    const patch = JSON.stringify({ status });
    kubectl(['patch', 'hw', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', patch]);
  };
  return {
    namespace,
    kc,
    hw(args, env = {}) {
      const result = spawnSync(process.execPath, [PLUGIN, ...args], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
        encoding: 'utf8',
        timeout: 150_000,
      });
      return { code: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    hwAsync(args) {
      const child = spawn(process.execPath, [PLUGIN, ...args], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const done = new Promise<Run>((resolve) => {
        child.once('exit', (code) => {
          resolve({ code, stdout, stderr });
        });
      });
      return { done, output: () => stdout, errors: () => stderr, interrupt: () => child.kill('SIGINT') };
    },
    inNs: (...args) => [...args, '-n', namespace, '--kubeconfig', kubeconfigPath()],
    writeStatus,
    async created(name, status) {
      applyHelloWorld(helloWorld(namespace, name, { image: 'hello/api:2.0.0' }));
      if (status !== undefined) writeStatus(name, status);
      return getHelloWorld(kc, namespace, name);
    },
    async cleanup() {
      rmSync(home, { recursive: true, force: true });
      await deleteTestNamespace(namespace);
    },
  };
}

export const condition = (type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: T(0),
});

export const history = [
  {
    revision: 'b2b2b2b2b2',
    image: 'hello/api:2.0.0',
    startTime: T(10),
    endTime: T(12),
    outcome: 'RolledBack',
    reason: 'SmokeTestFailed',
    summary: 'smoke check hello answered 500 on 2 of 3 pods',
  },
  {
    revision: 'a1a1a1a1a1',
    image: 'hello/api:1.0.0',
    startTime: T(0),
    endTime: T(2),
    outcome: 'Promoted',
    reason: 'RolloutSucceeded',
    summary: 'passed: 5xx 0.0%, p99 40 ms',
  },
];

/** A status as the operator writes it after a rollback, with two history entries. */
export const rolledBack = {
  observedGeneration: 1,
  phase: 'RolledBack',
  currentRevision: 'a1a1a1a1a1',
  stableRevision: 'a1a1a1a1a1',
  replicas: 3,
  readyReplicas: 3,
  updatedReplicas: 3,
  lastRollback: {
    fromRevision: 'b2b2b2b2b2',
    toRevision: 'a1a1a1a1a1',
    fromImage: 'hello/api:2.0.0',
    toImage: 'hello/api:1.0.0',
    reason: 'SmokeTestFailed',
    message: 'smoke check hello answered 500',
    time: T(12),
  },
  history,
  conditions: [
    condition('Available', 'True', 'MinimumReplicasAvailable', 'the service answers'),
    condition('Progressing', 'False', 'RolledBack', 'rolled back'),
    condition('Degraded', 'True', 'SmokeTestFailed', 'smoke check hello answered 500'),
  ],
};
