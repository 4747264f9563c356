// The namespaced install (config/namespaced): the operator's ServiceAccount may act in the watched
// namespaces and its own (the Lease) only, and that is enough to reconcile HelloWorlds there. The
// install is rendered as shipped, then moved to this test's own namespaces and names, so that it
// cannot borrow the permissions of another install on the shared cluster.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { createTestNamespace, deleteTestNamespace, loadKubeConfig } from '../support/cluster.js';
import {
  applyHelloWorld,
  buildOnce,
  getHelloWorld,
  helloWorld,
  installCrd,
  kubectl,
  simulatedSpec,
  startOperator,
  waitForHelloWorld,
  type OperatorProcess,
} from '../support/operator.js';
import {
  applyObjects,
  canI,
  grantedRules,
  isRbac,
  LEADER_ELECTION_RULES,
  OPERATOR_RULES,
  render,
  serviceAccount,
  serviceAccountKubeconfig,
  type RbacObject,
} from '../support/rbac.js';

const SHIPPED_SYSTEM = 'helloworld-system';

let kc: KubeConfig;
let tmp: string;
let system: string; // the operator's namespace
let watched: string[];
let unwatched: string;
let account: string;
let clusterRole: string;
let operator: OperatorProcess | undefined;

/** The WATCH_NAMESPACE of the shipped Deployment. */
function shippedWatchNamespace(objects: Record<string, unknown>[]): string {
  const deployment = objects.find((obj) => obj.kind === 'Deployment') as {
    spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
  };
  const env = deployment.spec.template.spec.containers[0]!.env ?? [];
  return env.find((v) => v.name === 'WATCH_NAMESPACE')?.value ?? '';
}

/** The shipped RBAC, moved from helloworld-system and the sample namespaces to this test's. */
function relocate(objects: RbacObject[], namespaces: Map<string, string>): RbacObject[] {
  const to = (ns: string | undefined): string | undefined => (ns === undefined ? ns : namespaces.get(ns));
  return objects.map((obj) => {
    const moved: RbacObject = structuredClone(obj);
    if (obj.kind === 'ClusterRole') moved.metadata.name = clusterRole;
    else moved.metadata.namespace = to(obj.metadata.namespace);
    if (moved.roleRef?.kind === 'ClusterRole') moved.roleRef.name = clusterRole;
    for (const subject of moved.subjects ?? []) subject.namespace = to(subject.namespace);
    return moved;
  });
}

beforeAll(async () => {
  kc = loadKubeConfig();
  buildOnce();
  installCrd();
  tmp = mkdtempSync(join(tmpdir(), 'hw-namespaced-'));
  system = await createTestNamespace('ns-operator');
  watched = [await createTestNamespace('ns-team-a'), await createTestNamespace('ns-team-b')];
  unwatched = await createTestNamespace('ns-other');
  account = serviceAccount(system, 'helloworld-operator');
  clusterRole = `helloworld-operator-${system}`;

  const objects = render('config/namespaced');
  const sampleNamespaces = shippedWatchNamespace(objects).split(',');
  const rbac = objects.filter(isRbac);
  // Every namespace the shipped Deployment watches has its RoleBinding, and no other namespace has one.
  const bound = rbac
    .filter((obj) => obj.kind === 'RoleBinding' && obj.roleRef?.kind === 'ClusterRole')
    .map((obj) => obj.metadata.namespace);
  expect(bound.sort()).toEqual([...sampleNamespaces].sort());
  expect(rbac.filter((obj) => obj.kind === 'ClusterRoleBinding')).toEqual([]);
  expect(sampleNamespaces).toHaveLength(watched.length);

  const namespaces = new Map([
    [SHIPPED_SYSTEM, system],
    ...sampleNamespaces.map((ns, i) => [ns, watched[i]!] as const),
  ]);
  applyObjects(relocate(rbac, namespaces));
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  rmSync(tmp, { recursive: true, force: true });
  for (const ns of [...watched, unwatched, system]) await deleteTestNamespace(ns);
  kubectl(['delete', 'clusterrole', clusterRole, '--ignore-not-found']);
}, 60_000);

describe('config/namespaced', () => {
  it('grants the operator its rules in the watched namespaces and nothing anywhere else', () => {
    for (const ns of watched) expect(grantedRules(system, 'helloworld-operator', ns)).toEqual(OPERATOR_RULES);
    expect(grantedRules(system, 'helloworld-operator', system)).toEqual(LEADER_ELECTION_RULES);
    expect(grantedRules(system, 'helloworld-operator', unwatched)).toEqual({});
    expect(grantedRules(system, 'helloworld-operator', 'kube-system')).toEqual({});

    const can = (verb: string, resource: string, ns: string): boolean => canI(account, verb, resource, ns);
    expect(can('list', 'secrets', watched[0]!)).toBe(true);
    expect(can('create', 'pods/proxy', watched[1]!)).toBe(true);
    // No cluster-wide list or watch of anything, Secrets in particular.
    for (const resource of ['secrets', 'helloworlds.hello.dev', 'pods', 'deployments.apps']) {
      expect(can('list', resource, '*')).toBe(false);
      expect(can('watch', resource, '*')).toBe(false);
    }
    expect(can('get', 'secrets', unwatched)).toBe(false);
    expect(can('get', 'secrets', 'kube-system')).toBe(false);
    expect(can('create', 'pods/proxy', 'kube-system')).toBe(false);
    expect(can('create', 'configmaps', 'kube-system')).toBe(false);
    expect(can('update', 'leases.coordination.k8s.io', watched[0]!)).toBe(false);
    expect(can('patch', 'helloworlds.hello.dev/status', system)).toBe(false);
    expect(can('get', 'nodes', '*')).toBe(false);
    expect(can('get', 'namespaces', '*')).toBe(false);
  });

  it('is enough to reconcile HelloWorlds in the watched namespaces, and touches no other', async () => {
    // Created first, so that the operator would have seen it long before the others are Available.
    applyHelloWorld(helloWorld(unwatched, 'ignored', simulatedSpec()));
    for (const ns of watched) applyHelloWorld(helloWorld(ns, 'scoped', simulatedSpec()));
    operator = await startOperator({
      kubeconfig: serviceAccountKubeconfig(kc, tmp, system, 'helloworld-operator'),
      env: { WATCH_NAMESPACE: watched.join(','), LEADER_ELECTION: 'true', LEASE_NAMESPACE: system },
    });
    for (const ns of watched) {
      await waitForHelloWorld(
        kc,
        ns,
        'scoped',
        (hw) => hw.status?.phase === 'Available' && hw.status.observedGeneration === 1,
        `the HelloWorld in ${ns} to become Available`,
        { operator, timeoutMs: 120_000 },
      );
    }
    expect((await getHelloWorld(kc, unwatched, 'ignored')).status).toBeUndefined();
    expect(kubectl(['get', 'deployments,services,secrets', '-n', unwatched, '-o', 'name'])).not.toMatch(
      /ignored/,
    );
    expect(operator.logs()).not.toMatch(/forbidden/i);
    expect(await operator.stop()).toBe(0);
    operator = undefined;
  }, 240_000);
});
