// `kubectl hw` (docs/kubectl-plugin.md) on the local cluster, run as the built executable
// (dist/operator/kubectl-hw/main.js) in a child process, as kubectl would run it.
//
// The first part writes the HelloWorld's status itself, through the status subresource, as anyone allowed
// to may: the plugin's contract is the status, so each phase (and a hostile status) is set up exactly, and
// no operator runs in that namespace to overwrite it. The last part runs the operator on a namespace of
// its own: `status --wait` right after an apply must wait for the operator's verdict on the new spec.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  waitFor,
} from '../support/cluster.js';
import { applyObjects, serviceAccountKubeconfig } from '../support/rbac.js';
import {
  applyHelloWorld,
  buildOnce,
  getHelloWorld,
  helloWorld,
  installCrd,
  kubectl,
  type OperatorProcess,
  simulatedSpec,
  startOperator,
} from '../support/operator.js';

const PLUGIN = 'dist/operator/kubectl-hw/main.js';
const T = (minute: number): string => new Date(Date.UTC(2026, 11, 4, 3, minute)).toISOString();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the plugin to its end; KUBECONFIG is not set, so it reads only what `args` say. */
function hw(args: string[], env: Record<string, string> = {}): Run {
  const result = spawnSync(process.execPath, [PLUGIN, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
    encoding: 'utf8',
    timeout: 150_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts the plugin and resolves when it exits; `output()` is what it printed so far. */
function hwAsync(args: string[]): {
  done: Promise<Run>;
  output: () => string;
  errors: () => string;
  interrupt: () => void;
} {
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
}

let kc: KubeConfig;
let namespace = '';
/** An empty HOME: no ~/.kube/config of the machine's user can answer for a missing flag. */
let home: string;

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

const inNs = (...args: string[]): string[] => [...args, '-n', namespace, '--kubeconfig', kubeconfigPath()];

/** Writes `status` through the status subresource (a JSON merge patch), as any writer of it may. */
function writeStatus(name: string, status: Record<string, unknown>): void {
  kubectl([
    'patch',
    'hw',
    name,
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

/** Creates a HelloWorld (no operator serves this namespace) and gives it `status`. */
async function created(name: string, status?: Record<string, unknown>): Promise<HelloWorld> {
  applyHelloWorld(helloWorld(namespace, name, { image: 'hello/api:2.0.0' }));
  if (status !== undefined) writeStatus(name, status);
  return getHelloWorld(kc, namespace, name);
}

const condition = (type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: T(0),
});

const history = [
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

const rolledBack = {
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

beforeAll(async () => {
  kc = loadKubeConfig();
  home = mkdtempSync(join(tmpdir(), 'kubectl-hw-home-'));
  buildOnce();
  ensureCrd();
  namespace = await createTestNamespace('kubectl-hw');
}, 180_000);

afterAll(async () => {
  rmSync(home, { recursive: true, force: true });
  if (namespace !== '') await deleteTestNamespace(namespace);
}, 60_000);

describe('the npm package', () => {
  it('ships the built kubectl-hw and what it imports, without sources', () => {
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: repoRoot, encoding: 'utf8' });
    expect(packed.status).toBe(0);
    const [pack] = JSON.parse(packed.stdout) as { files: { path: string }[] }[];
    const files = (pack?.files ?? []).map((f) => f.path);
    for (const needed of [
      'dist/operator/kubectl-hw/main.js',
      'dist/operator/runtime/rest.js',
      'dist/common/env.js',
    ]) {
      expect(files).toContain(needed);
    }
    expect(files.filter((f) => f.endsWith('.ts') || f.endsWith('.map') || f.startsWith('test/'))).toEqual([]);
  }, 60_000);
});

describe('kubectl hw status and history', () => {
  it('prints the phase, the pods, the rollback and the conditions needing attention; -o json too', async () => {
    await created('shown', rolledBack);
    const text = hw(inNs('status', 'shown'));
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain(`HelloWorld:  ${namespace}/shown\nPhase:       RolledBack\n`);
    expect(text.stdout).toContain('Pods:        3/3 ready, 3 updated; revision a1a1a1a1a1\n');
    expect(text.stdout).toContain(`Last rollback: ${T(12)} hello/api:2.0.0 -> hello/api:1.0.0\n`);
    expect(text.stdout).toContain(
      'Conditions needing attention:\n  Degraded=True SmokeTestFailed: smoke check',
    );
    expect(text.stdout).not.toContain('Available=True');

    const json = hw(inNs('status', 'shown', '-o', 'json'));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: 'shown',
      namespace,
      generation: 1,
      observedGeneration: 1,
      phase: 'RolledBack',
      lastRollback: rolledBack.lastRollback,
      history,
    });
  }, 60_000);

  it('prints status.history as a table and as JSON', async () => {
    await created('history', rolledBack);
    const table = hw(inNs('history', 'history'));
    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^REVISION +IMAGE +OUTCOME +REASON +STARTED +ENDED +SUMMARY$/),
      expect.stringMatching(
        /^b2b2b2b2b2 +hello\/api:2\.0\.0 +RolledBack +SmokeTestFailed .* smoke check hello/,
      ),
      expect.stringMatching(
        /^a1a1a1a1a1 +hello\/api:1\.0\.0 +Promoted +RolloutSucceeded .* passed: 5xx 0\.0%/,
      ),
    ]);
    expect(JSON.parse(hw(inNs('history', 'history', '-o', 'json')).stdout)).toEqual(history);
  }, 60_000);

  it('reads the namespace of the kubeconfig context, from KUBECONFIG, when -n is not given', async () => {
    await created('in-context', rolledBack);
    const dir = mkdtempSync(join(tmpdir(), 'kubectl-hw-kubeconfig-'));
    try {
      const path = join(dir, 'config');
      writeFileSync(path, kubectl(['config', 'view', '--raw', '--minify', '--flatten']));
      const context = kubectl(['--kubeconfig', path, 'config', 'current-context']).trim();
      spawnSync('kubectl', [
        '--kubeconfig',
        path,
        'config',
        'set-context',
        context,
        `--namespace=${namespace}`,
      ]);
      const run = hw(['status', 'in-context'], { KUBECONFIG: path });
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain(`HelloWorld:  ${namespace}/in-context`);
      const other = hw(['status', 'in-context', '--context', 'no-such-context'], { KUBECONFIG: path });
      expect(other).toMatchObject({
        code: 1,
        stderr: 'error: the kubeconfig has no context "no-such-context"\n',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('says plainly when the HelloWorld does not exist, and refuses a bad name before any request', () => {
    expect(hw(inNs('status', 'absent'))).toMatchObject({
      code: 1,
      stderr: `error: helloworld absent not found in namespace ${namespace}\n`,
    });
    // No kubeconfig at all: a name check that came after the first request would fail differently.
    const bad = hw(['status', '../../../api/v1/secrets', '--kubeconfig', '/nonexistent']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: NAME "../../../api/v1/secrets" is not valid');
  }, 60_000);

  it('keeps a hostile status from steering the terminal', async () => {
    const hostile = 'bad \u001b[2J\u001b[H\u001b]0;owned\u0007news\u001b[31m red \u202eevil\r\nline';
    await created('hostile', {
      ...rolledBack,
      lastRollback: { ...rolledBack.lastRollback, message: `${hostile} ${'x'.repeat(30_000)}` },
      conditions: [condition('Degraded', 'True', 'SmokeTestFailed', hostile)],
      history: [{ ...history[0], summary: hostile }],
    });
    for (const args of [inNs('status', 'hostile'), inNs('history', 'hostile')]) {
      const run = hw(args);
      expect(run.code).toBe(0);
      for (const ch of ['\u001b', '\u0007', '\u009b', '\u202e', '\r']) expect(run.stdout).not.toContain(ch);
      expect(run.stdout.length).toBeLessThan(5000);
    }
    // JSON stays lossless, with what a terminal acts on escaped.
    const json = hw(inNs('status', 'hostile', '-o', 'json')).stdout;
    for (const ch of ['\u001b', '\u0007', '\u009b', '\u202e', '\r']) expect(json).not.toContain(ch);
    expect((JSON.parse(json) as { conditions: { message: string }[] }).conditions[0]?.message).toBe(hostile);
    expect(hw(inNs('status', 'hostile')).stdout).toContain(
      'Degraded=True SmokeTestFailed: bad news red evil line',
    );
  }, 60_000);

  it('redraws on every change with -w and ends on Ctrl-C', async () => {
    await created('watched', { ...rolledBack, phase: 'Progressing' });
    const watch = hwAsync(inNs('status', 'watched', '-w'));
    await waitFor(() => watch.output().includes('Phase:       Progressing'), {
      describe: 'the first drawing',
      timeoutMs: 30_000,
    });
    writeStatus('watched', { phase: 'Available', lastRollback: null });
    await waitFor(() => watch.output().includes('Phase:       Available'), {
      describe: 'a redraw after the status changed',
      timeoutMs: 30_000,
    });
    watch.interrupt();
    expect((await watch.done).code).toBe(0);
  }, 90_000);
});

describe('kubectl hw gate verbs', () => {
  it('each writes only its annotation, as field manager kubectl-hw', async () => {
    const before = await created('gated', rolledBack);
    const annotations = async (): Promise<Record<string, string>> =>
      (await getHelloWorld(kc, namespace, 'gated')).metadata.annotations ?? {};
    const steps: [string, string, boolean][] = [
      ['promote', 'hello.dev/promote', true],
      ['abort', 'hello.dev/abort', true],
      ['retry', 'hello.dev/retry', true],
      ['pause', 'hello.dev/pause', true],
      ['resume', 'hello.dev/pause', false],
    ];
    let last: Record<string, string> = {};
    for (const [verb, annotation, present] of steps) {
      const run = hw(inNs(verb, 'gated'));
      expect(run).toMatchObject({ code: 0, stderr: '' });
      const now = await annotations();
      const changed = Object.keys({ ...last, ...now }).filter((k) => last[k] !== now[k]);
      expect(changed).toEqual([annotation]);
      if (present) expect(Number.isNaN(Date.parse(now[annotation] ?? ''))).toBe(false);
      else expect(now[annotation]).toBeUndefined();
      last = now;
    }
    // A second promote is a new token, so the operator acts on it again.
    const first = last['hello.dev/promote'];
    await new Promise((resolve) => setTimeout(resolve, 5));
    hw(inNs('promote', 'gated'));
    expect((await annotations())['hello.dev/promote']).not.toBe(first);

    const after = await getHelloWorld(kc, namespace, 'gated');
    expect(after.spec).toEqual(before.spec);
    expect(after.status).toEqual(before.status);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    const mine = (after.metadata.managedFields ?? []).filter((f) => f.manager === 'kubectl-hw');
    expect(mine).toHaveLength(1);
    expect(mine[0]?.operation).toBe('Update');
    expect(
      Object.keys(
        ((mine[0]?.fieldsV1 as Record<string, Record<string, object>>)['f:metadata'] ?? {})[
          'f:annotations'
        ] ?? {},
      ).sort(),
    ).toEqual(['.', 'f:hello.dev/abort', 'f:hello.dev/promote', 'f:hello.dev/retry']);
  }, 60_000);

  it('fails with exit 1 on a HelloWorld that does not exist, creating nothing', () => {
    expect(hw(inNs('abort', 'nothing-here'))).toMatchObject({
      code: 1,
      stderr: `error: helloworld nothing-here not found in namespace ${namespace}\n`,
    });
    const list = JSON.parse(kubectl(['get', 'hw', '-n', namespace, '-o', 'json'])) as { items: HelloWorld[] };
    expect(list.items.map((i) => i.metadata.name)).not.toContain('nothing-here');
  }, 60_000);
});

describe('kubectl hw status --wait', () => {
  it('exits 0 on Available, 3 on RolledBack, 4 on Failed', async () => {
    await created('good', { ...rolledBack, phase: 'Available', lastRollback: null, conditions: [] });
    await created('rolled-back', rolledBack);
    await created('failed', {
      ...rolledBack,
      phase: 'Failed',
      conditions: [condition('Degraded', 'True', 'CrashLooping', 'restarted 5 times')],
    });
    expect(hw(inNs('status', 'good', '--wait', '--timeout', '30s')).code).toBe(0);
    const back = hw(inNs('status', 'rolled-back', '--wait', '--timeout', '30s'));
    expect(back.code).toBe(3);
    expect(back.stderr).toContain('RolledBack: SmokeTestFailed: smoke check hello answered 500');
    const failed = hw(inNs('status', 'failed', '--wait', '--timeout', '30s', '-o', 'json'));
    expect(failed.code).toBe(4);
    expect(JSON.parse(failed.stdout)).toMatchObject({ phase: 'Failed' });
  }, 120_000);

  it('does not pass on an Available of an older generation: it times out (5), ends on Ctrl-C (130), or waits for the new verdict', async () => {
    await created('stale', { ...rolledBack, phase: 'Available', lastRollback: null, conditions: [] });
    applyHelloWorld(helloWorld(namespace, 'stale', { image: 'hello/api:3.0.0' })); // generation 2
    const timedOut = hw(inNs('status', 'stale', '--wait', '--timeout', '3s'));
    expect(timedOut.code).toBe(5);
    expect(timedOut.stderr).toContain(
      'the operator has not observed generation 2 yet (status is of generation 1)',
    );
    expect(timedOut.stderr).toContain('timed out after 3s');

    const interrupted = hwAsync(inNs('status', 'stale', '--wait'));
    await waitFor(() => interrupted.errors().includes('waiting:'), { describe: 'a wait', timeoutMs: 30_000 });
    interrupted.interrupt();
    const ended = await interrupted.done;
    expect(ended.code).toBe(130);
    expect(ended.stderr).toContain('interrupted before a verdict');

    const waiting = hwAsync(inNs('status', 'stale', '--wait', '--timeout', '60s'));
    const said = (text: string) => () => waiting.errors().includes(text);
    await waitFor(said('waiting: the operator has not observed generation 2'), {
      describe: 'a wait',
      timeoutMs: 30_000,
    });
    writeStatus('stale', { observedGeneration: 2, phase: 'Progressing' });
    await waitFor(said('waiting: phase Progressing'), { describe: 'the new phase seen', timeoutMs: 30_000 });
    writeStatus('stale', { observedGeneration: 2, phase: 'Available' });
    const run = await waiting.done;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('waiting: phase Progressing');
  }, 120_000);
});

describe('kubectl hw RBAC', () => {
  it('needs nothing but get, watch and patch on helloworlds; reads work with a Role for the one name', async () => {
    await created('rbac', { ...rolledBack, phase: 'Available', lastRollback: null, conditions: [] });
    const role = (name: string, verbs: string[], resourceNames?: string[]) => [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name, namespace },
        rules: [{ apiGroups: ['hello.dev'], resources: ['helloworlds'], verbs, resourceNames }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    ];
    applyObjects([
      ...role('hw-user', ['get', 'watch', 'patch']),
      ...role('hw-viewer', ['get', 'watch'], ['rbac']),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'kubectl-hw-rbac-'));
    try {
      const user = serviceAccountKubeconfig(kc, dir, namespace, 'hw-user');
      const viewer = serviceAccountKubeconfig(kc, dir, namespace, 'hw-viewer');
      const as = (kubeconfig: string, ...args: string[]): Run =>
        hw([...args, '-n', namespace, '--kubeconfig', kubeconfig]);
      for (const args of [
        ['status', 'rbac'],
        ['history', 'rbac'],
        ['status', 'rbac', '--wait'],
        ['promote', 'rbac'],
      ]) {
        const run = as(user, ...args);
        expect(run.code).toBe(0);
        expect(run.stderr).not.toContain('error');
      }
      expect(as(viewer, 'status', 'rbac', '--wait', '--timeout', '30s').code).toBe(0);
      const refused = as(viewer, 'pause', 'rbac');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('Forbidden');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('kubectl hw status --wait with the operator', () => {
  let operatorNamespace: string | undefined;
  let operator: OperatorProcess | undefined;

  beforeAll(async () => {
    operatorNamespace = await createTestNamespace('kubectl-hw-op');
    operator = await startOperator({ env: { LEADER_ELECTION: 'false', WATCH_NAMESPACE: operatorNamespace } });
  }, 120_000);

  afterAll(async () => {
    const code = await operator?.stop();
    if (operatorNamespace !== undefined) await deleteTestNamespace(operatorNamespace);
    expect(code).toBe(0);
  }, 60_000);

  it('waits for the verdict on the spec just applied: Available, then a crash-looping release RolledBack', async () => {
    const ns = operatorNamespace!;
    const args = (...rest: string[]): string[] => [...rest, '-n', ns, '--kubeconfig', kubeconfigPath()];
    const release = (image: string): void => {
      applyHelloWorld(
        helloWorld(ns, 'live', simulatedSpec({ image, rollout: { progressDeadlineSeconds: 600 } })),
      );
    };

    release('hello/api:1.0.0');
    const first = hw(args('status', 'live', '--wait', '--timeout', '120s'));
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Phase:       Available');

    // Right after this apply the status still says Available, of generation 1.
    release('crashloop.invalid/api:2.0.0');
    const second = hw(args('status', 'live', '--wait', '--timeout', '120s'));
    expect(second.code).toBe(3);
    expect(second.stderr).toContain('RolledBack: CrashLooping');
    const hwNow = await getHelloWorld(kc, ns, 'live');
    expect(hwNow.status?.observedGeneration).toBe(hwNow.metadata.generation);
  }, 300_000);
});
