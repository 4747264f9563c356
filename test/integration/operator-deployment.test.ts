// The operator as it is deployed: with the ServiceAccount and least-privilege RBAC of config/ (the
// process authenticates with that account's token, so every verb it uses must be granted), and as two
// replicas behind leader election (only the leader writes; a stopped leader hands over at once).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  loadKubeConfig,
  waitFor,
} from '../support/cluster.js';
import {
  applyHelloWorld,
  buildOnce,
  helloWorld,
  installCrd,
  metricValue,
  simulatedSpec,
  startOperator,
  waitForHelloWorld,
  type OperatorProcess,
} from '../support/operator.js';
import {
  applyObjects,
  canI,
  grantedRules,
  LEADER_ELECTION_RULES,
  OPERATOR_RULES,
  isRbac,
  render,
  serviceAccount,
  serviceAccountKubeconfig,
} from '../support/rbac.js';

const SYSTEM_NAMESPACE = 'helloworld-system';
const ACCOUNT = serviceAccount(SYSTEM_NAMESPACE, 'helloworld-operator');

let kc: KubeConfig;
let namespace: string;
let tmp: string;
const running: OperatorProcess[] = [];

const promoted =
  (generation: number) =>
  (hw: { metadata: { generation?: number }; status?: { phase?: string; observedGeneration?: number } }) =>
    hw.status?.phase === 'Available' && hw.status.observedGeneration === generation;

async function start(env: Record<string, string>, kubeconfig?: string): Promise<OperatorProcess> {
  const operator = await startOperator({
    env: { WATCH_NAMESPACE: namespace, ...env },
    ...(kubeconfig && { kubeconfig }),
  });
  running.push(operator);
  return operator;
}

beforeAll(async () => {
  kc = loadKubeConfig();
  buildOnce();
  installCrd();
  namespace = await createTestNamespace('deployed');
  tmp = mkdtempSync(join(tmpdir(), 'hw-operator-'));
}, 180_000);

afterAll(async () => {
  for (const operator of running) await operator.stop();
  rmSync(tmp, { recursive: true, force: true });
  await deleteTestNamespace(namespace);
}, 60_000);

describe('with the RBAC of config/', () => {
  let kubeconfig: string;

  beforeAll(() => {
    // The operator's namespace (rendered first), its ServiceAccount, and the roles and bindings.
    applyObjects(render('config/default').filter((obj) => obj.kind === 'Namespace' || isRbac(obj)));
    kubeconfig = serviceAccountKubeconfig(kc, tmp, SYSTEM_NAMESPACE, 'helloworld-operator');
  });

  it('grants every verb the operator uses, and nothing it does not', () => {
    // In any namespace, exactly the operator's rules; the Lease only in its own namespace.
    expect(grantedRules(SYSTEM_NAMESPACE, 'helloworld-operator', namespace)).toEqual(OPERATOR_RULES);
    expect(grantedRules(SYSTEM_NAMESPACE, 'helloworld-operator', SYSTEM_NAMESPACE)).toEqual({
      ...OPERATOR_RULES,
      ...LEADER_ELECTION_RULES,
    });
    const can = (verb: string, resource: string, ns = namespace): boolean =>
      canI(ACCOUNT, verb, resource, ns);
    expect(can('watch', 'helloworlds.hello.dev')).toBe(true);
    expect(can('patch', 'helloworlds.hello.dev/status')).toBe(true);
    expect(can('patch', 'helloworlds.hello.dev')).toBe(false);
    expect(can('get', 'helloworlds.hello.dev')).toBe(false);
    expect(can('patch', 'deployments.apps')).toBe(true);
    expect(can('delete', 'horizontalpodautoscalers.autoscaling')).toBe(true);
    expect(can('update', 'pods/proxy')).toBe(true);
    expect(can('patch', 'pods/proxy')).toBe(false);
    expect(can('create', 'events')).toBe(true);
    expect(can('update', 'leases.coordination.k8s.io', SYSTEM_NAMESPACE)).toBe(true);
    // The canary Deployment goes when its canary fails or is promoted (strategy Canary); StatefulSets not.
    expect(can('delete', 'deployments.apps')).toBe(true);
    expect(can('delete', 'statefulsets.apps')).toBe(false);
    expect(can('get', 'pods')).toBe(false);
    expect(can('create', 'pods')).toBe(false);
    expect(can('create', 'pods/exec')).toBe(false);
    expect(can('delete', 'persistentvolumeclaims')).toBe(false);
    expect(can('update', 'leases.coordination.k8s.io', 'kube-system')).toBe(false);
    expect(can('create', 'rolebindings.rbac.authorization.k8s.io')).toBe(false);
    expect(can('get', 'nodes', '*')).toBe(false);
    // A misspelt resource is no "no": kubectl warns and answers no, and that must not pass as a denial.
    expect(() => can('get', 'nodez', '*')).toThrow(/gave no yes\/no answer.*doesn't have a resource type/s);
    // Cluster-wide: the operator watches every namespace, so it lists Secrets everywhere (docs/install.md).
    expect(can('list', 'secrets', '*')).toBe(true);
  });

  it('counts only an answer of the API server: a kubeconfig that does not work is no "no"', () => {
    // kubectl exits 1 on these failures too, as on a "no": a check that a verb is denied must not pass.
    const unreachable = join(tmp, 'unreachable.kubeconfig');
    const config = readFileSync(kubeconfigPath(), 'utf8');
    writeFileSync(unreachable, config.replace(/server: https:\/\/[^\s]+/, 'server: https://127.0.0.1:1'));
    expect(() => canI(ACCOUNT, 'get', 'nodes', '*', unreachable)).toThrow(/gave no yes\/no answer.*refused/s);
    expect(() => canI(ACCOUNT, 'get', 'nodes', '*', join(tmp, 'missing.kubeconfig'))).toThrow(
      /gave no yes\/no answer.*no such file/s,
    );
    // A cluster-scoped resource asked about in one namespace: kubectl warns, and that is no answer either.
    expect(() => canI(ACCOUNT, 'get', 'nodes', namespace)).toThrow(
      /gave no yes\/no answer.*not namespace scoped/s,
    );
    // The same account and kubeconfig answer a real "no" and a real "yes".
    expect(canI(ACCOUNT, 'get', 'nodes', '*')).toBe(false);
    expect(canI(ACCOUNT, 'list', 'secrets', '*')).toBe(true);
  });

  it('is enough to reconcile a HelloWorld end to end', async () => {
    const operator = await start(
      { LEASE_NAMESPACE: SYSTEM_NAMESPACE, LEASE_NAME: `rbac-${namespace}` },
      kubeconfig,
    );
    const name = 'rbac';
    applyHelloWorld(
      helloWorld(namespace, name, simulatedSpec({ autoscaling: { minReplicas: 1, maxReplicas: 3 } })),
    );
    await waitForHelloWorld(kc, namespace, name, promoted(1), 'the HelloWorld to become Available', {
      operator,
    });
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec({ replicas: 2, image: 'hello/api:1.0.1' })));
    await waitForHelloWorld(kc, namespace, name, promoted(2), 'the update to be promoted', { operator });
    expect(operator.logs()).not.toMatch(/forbidden/i);
    const deletes = metricValue(await operator.metrics(), 'helloworld_kube_writes_total', { verb: 'delete' });
    // The HPA of the first spec was removed when autoscaling was switched off.
    expect(`deletes: ${String(deletes)}\n${operator.tail(40)}`).toMatch(/^deletes: 1\n/);
    expect(await operator.stop()).toBe(0);
  }, 180_000);
});

describe('two replicas', () => {
  it('only the leader writes, and a stopped leader hands over at once', async () => {
    const lease = { LEADER_ELECTION: 'true', LEASE_NAMESPACE: namespace, LEASE_NAME: 'pair' };
    const first = await start(lease);
    const second = await start(lease);
    const leading = async (op: OperatorProcess): Promise<number> =>
      metricValue(await op.metrics(), 'helloworld_leader');
    const [leader, standby] = await waitFor(
      async () => {
        const [a, b] = [await leading(first), await leading(second)];
        if (a + b !== 1) return undefined;
        return a === 1 ? [first, second] : [second, first];
      },
      { describe: 'exactly one of two replicas to lead', timeoutMs: 30_000 },
    );

    const name = 'pair';
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec()));
    await waitForHelloWorld(kc, namespace, name, promoted(1), 'the HelloWorld to become Available', {
      operator: leader,
    });
    const writes = async (op: OperatorProcess): Promise<number> =>
      metricValue(await op.metrics(), 'helloworld_kube_writes_total');
    expect(await writes(leader)).toBeGreaterThan(0);
    expect(await writes(standby)).toBe(0);

    // A graceful stop releases the lease: the standby leads long before the 15 s lease would expire.
    expect(await leader.stop()).toBe(0);
    await waitFor(async () => (await leading(standby)) === 1, {
      describe: 'the standby to take the released lease',
      timeoutMs: 10_000,
    });
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec({ image: 'hello/api:1.0.1' })));
    await waitForHelloWorld(kc, namespace, name, promoted(2), 'the new leader to finish the update', {
      operator: standby,
    });
    expect(await writes(standby)).toBeGreaterThan(0);
  }, 180_000);
});
