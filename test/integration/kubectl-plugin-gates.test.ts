// `kubectl hw` (docs/kubectl-plugin.md) on the local cluster, run as the built executable in a child process
// (test/support/kubectl-hw.ts): the gate verbs' writes, `status --wait` and its exit codes on statuses the
// test writes itself, the RBAC the plugin needs, and `status --wait` right after an apply with the operator
// running on a namespace of its own (it must wait for the operator's verdict on the new spec).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HelloWorld } from '../../operator/src/crd/types.js';
import { createTestNamespace, deleteTestNamespace, kubeconfigPath, waitFor } from '../support/cluster.js';
import {
  condition,
  pluginNamespace,
  rolledBack,
  type PluginNamespace,
  type Run,
} from '../support/kubectl-hw.js';
import {
  applyHelloWorld,
  getHelloWorld,
  helloWorld,
  kubectl,
  type OperatorProcess,
  simulatedSpec,
  startOperator,
} from '../support/operator.js';
import { applyObjects, serviceAccountKubeconfig } from '../support/rbac.js';

let ns: PluginNamespace;

beforeAll(async () => {
  ns = await pluginNamespace('kubectl-hw-gates');
}, 180_000);

afterAll(() => ns.cleanup(), 60_000);

describe('kubectl hw gate verbs', () => {
  it('each writes only its annotation, as field manager kubectl-hw', async () => {
    const before = await ns.created('gated', rolledBack);
    const annotations = async (): Promise<Record<string, string>> =>
      (await getHelloWorld(ns.kc, ns.namespace, 'gated')).metadata.annotations ?? {};
    const steps: [string, string, boolean][] = [
      ['promote', 'hello.dev/promote', true],
      ['abort', 'hello.dev/abort', true],
      ['retry', 'hello.dev/retry', true],
      ['pause', 'hello.dev/pause', true],
      ['resume', 'hello.dev/pause', false],
    ];
    let last: Record<string, string> = {};
    for (const [verb, annotation, present] of steps) {
      const run = ns.hw(ns.inNs(verb, 'gated'));
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
    ns.hw(ns.inNs('promote', 'gated'));
    expect((await annotations())['hello.dev/promote']).not.toBe(first);

    const after = await getHelloWorld(ns.kc, ns.namespace, 'gated');
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
    expect(ns.hw(ns.inNs('abort', 'nothing-here'))).toMatchObject({
      code: 1,
      stderr: `error: helloworld nothing-here not found in namespace ${ns.namespace}\n`,
    });
    const list = JSON.parse(kubectl(['get', 'hw', '-n', ns.namespace, '-o', 'json'])) as {
      items: HelloWorld[];
    };
    expect(list.items.map((i) => i.metadata.name)).not.toContain('nothing-here');
  }, 60_000);
});

describe('kubectl hw status --wait', () => {
  it('exits 0 on Available, 3 on RolledBack, 4 on Failed', async () => {
    await ns.created('good', { ...rolledBack, phase: 'Available', lastRollback: null, conditions: [] });
    await ns.created('rolled-back', rolledBack);
    await ns.created('failed', {
      ...rolledBack,
      phase: 'Failed',
      conditions: [condition('Degraded', 'True', 'CrashLooping', 'restarted 5 times')],
    });
    expect(ns.hw(ns.inNs('status', 'good', '--wait', '--timeout', '30s')).code).toBe(0);
    const back = ns.hw(ns.inNs('status', 'rolled-back', '--wait', '--timeout', '30s'));
    expect(back.code).toBe(3);
    expect(back.stderr).toContain('RolledBack: SmokeTestFailed: smoke check hello answered 500');
    const failed = ns.hw(ns.inNs('status', 'failed', '--wait', '--timeout', '30s', '-o', 'json'));
    expect(failed.code).toBe(4);
    expect(JSON.parse(failed.stdout)).toMatchObject({ phase: 'Failed' });
  }, 120_000);

  it('does not pass on an Available of an older generation: it times out (5), ends on Ctrl-C (130), or waits for the new verdict', async () => {
    await ns.created('stale', { ...rolledBack, phase: 'Available', lastRollback: null, conditions: [] });
    applyHelloWorld(helloWorld(ns.namespace, 'stale', { image: 'hello/api:3.0.0' })); // generation 2
    const timedOut = ns.hw(ns.inNs('status', 'stale', '--wait', '--timeout', '3s'));
    expect(timedOut.code).toBe(5);
    expect(timedOut.stderr).toContain(
      'the operator has not observed generation 2 yet (status is of generation 1)',
    );
    expect(timedOut.stderr).toContain('timed out after 3s');

    const interrupted = ns.hwAsync(ns.inNs('status', 'stale', '--wait'));
    await waitFor(() => interrupted.errors().includes('waiting:'), { describe: 'a wait', timeoutMs: 30_000 });
    interrupted.interrupt();
    const ended = await interrupted.done;
    expect(ended.code).toBe(130);
    expect(ended.stderr).toContain('interrupted before a verdict');

    const waiting = ns.hwAsync(ns.inNs('status', 'stale', '--wait', '--timeout', '60s'));
    const said = (text: string) => () => waiting.errors().includes(text);
    await waitFor(said('waiting: the operator has not observed generation 2'), {
      describe: 'a wait',
      timeoutMs: 30_000,
    });
    ns.writeStatus('stale', { observedGeneration: 2, phase: 'Progressing' });
    await waitFor(said('waiting: phase Progressing'), { describe: 'the new phase seen', timeoutMs: 30_000 });
    ns.writeStatus('stale', { observedGeneration: 2, phase: 'Available' });
    const run = await waiting.done;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('waiting: phase Progressing');
  }, 120_000);
});

describe('kubectl hw RBAC', () => {
  it('needs nothing but get, watch and patch on helloworlds; reads work with a Role for the one name', async () => {
    await ns.created('rbac', { ...rolledBack, phase: 'Available', lastRollback: null, conditions: [] });
    const role = (name: string, verbs: string[], resourceNames?: string[]) => [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns.namespace } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name, namespace: ns.namespace },
        rules: [{ apiGroups: ['hello.dev'], resources: ['helloworlds'], verbs, resourceNames }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name, namespace: ns.namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: ns.namespace }],
      },
    ];
    applyObjects([
      ...role('hw-user', ['get', 'watch', 'patch']),
      ...role('hw-viewer', ['get', 'watch'], ['rbac']),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'kubectl-hw-rbac-'));
    try {
      const user = serviceAccountKubeconfig(ns.kc, dir, ns.namespace, 'hw-user');
      const viewer = serviceAccountKubeconfig(ns.kc, dir, ns.namespace, 'hw-viewer');
      const as = (kubeconfig: string, ...args: string[]): Run =>
        ns.hw([...args, '-n', ns.namespace, '--kubeconfig', kubeconfig]);
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
    const live = operatorNamespace!;
    const args = (...rest: string[]): string[] => [...rest, '-n', live, '--kubeconfig', kubeconfigPath()];
    const release = (image: string): void => {
      applyHelloWorld(
        helloWorld(live, 'live', simulatedSpec({ image, rollout: { progressDeadlineSeconds: 600 } })),
      );
    };

    release('hello/api:1.0.0');
    const first = ns.hw(args('status', 'live', '--wait', '--timeout', '120s'));
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Phase:       Available');

    // Right after this apply the status still says Available, of generation 1.
    release('crashloop.invalid/api:2.0.0');
    const second = ns.hw(args('status', 'live', '--wait', '--timeout', '120s'));
    expect(second.code).toBe(3);
    expect(second.stderr).toContain('RolledBack: CrashLooping');
    const hwNow = await getHelloWorld(ns.kc, live, 'live');
    expect(hwNow.status?.observedGeneration).toBe(hwNow.metadata.generation);
  }, 300_000);
});
