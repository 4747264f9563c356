// spec.serviceAccount with the operator as a process on the local cluster: a created ServiceAccount is
// the HelloWorld's (owner reference, labels, server-side apply by the operator's field manager), the API
// pods run as it, its annotations follow the spec, and it goes with the HelloWorld. Someone else's
// ServiceAccount under that name is never taken over; a named one that does not exist is reported and
// the pods are left alone until it does, and is never written to.
import type {
  KubeConfig,
  KubernetesObject,
  V1Deployment,
  V1Pod,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import type { HelloWorld, HelloWorldSpec } from '../../operator/src/crd/types.js';
import { loadKubeConfig, waitFor } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  helloWorld,
  installCrd,
  kubectl,
  kubectlGet,
  operatorInNamespace,
  type OperatorProcess,
  simulatedSpec,
  waitForHelloWorld,
} from '../support/operator.js';

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: () => Promise<void>;

const ROLE = 'arn:aws:iam::111122223333:role/hello-api';
const OTHER_ROLE = 'arn:aws:iam::111122223333:role/hello-api-v2';

const converged = (hw: HelloWorld) =>
  conditionOf(hw, 'Reconciled')?.status === 'True' && conditionOf(hw, 'Degraded')?.status === 'False';
const degradedBy = (reason: string) => (hw: HelloWorld) => conditionOf(hw, 'Degraded')?.reason === reason;
const messageOf = (hw: HelloWorld, type: string) =>
  hw.status?.conditions?.find((c) => c.type === type)?.message;

/**
 * The CRD is cluster-wide: a test run of a checkout whose CRD lacks spec.serviceAccount replaces this
 * one, and the field would then be pruned. Put it back before each step that writes a HelloWorld.
 */
function ensureServiceAccountSchema(): void {
  const fields = kubectl([
    'get',
    'crd',
    'helloworlds.hello.dev',
    '-o',
    'jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.serviceAccount.type}',
  ]);
  if (fields.trim() !== 'object') installCrd();
}

function apply(name: string, spec: Partial<HelloWorldSpec>): void {
  ensureServiceAccountSchema();
  applyHelloWorld(helloWorld(namespace, name, simulatedSpec(spec)));
}

/** waitForHelloWorld that puts this checkout's CRD back at every look (see ensureServiceAccountSchema). */
function waitForState(
  name: string,
  check: (hw: HelloWorld) => boolean,
  describe: string,
): Promise<HelloWorld> {
  const guarded = (hw: HelloWorld) => {
    ensureServiceAccountSchema();
    return check(hw);
  };
  return waitForHelloWorld(kc, namespace, name, guarded, describe, { operator, timeoutMs: 90_000 });
}

const get = (kind: string, name: string): KubernetesObject => kubectlGet(kind, name, namespace);
const serviceAccount = (name: string) => get('serviceaccount', name) as V1ServiceAccount;
const podSpec = (name: string) => (get('deployment', name) as V1Deployment).spec?.template.spec;
const templateAnnotations = (name: string) =>
  (get('deployment', name) as V1Deployment).spec?.template.metadata?.annotations;
/** Converged, with the API Deployment's pods running as `account`. */
const runsAs = (account: string) => (hw: HelloWorld) =>
  converged(hw) &&
  exists('deployment', hw.metadata.name) &&
  podSpec(hw.metadata.name)?.serviceAccountName === account;
const exists = (kind: string, name: string): boolean =>
  kubectl(['get', kind, name, '-n', namespace, '--ignore-not-found', '-o', 'name']).trim() !== '';

function apiPods(instance: string): V1Pod[] {
  const selector = `app.kubernetes.io/instance=${instance},app.kubernetes.io/component=api`;
  const list = JSON.parse(kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as {
    items: V1Pod[];
  };
  return list.items;
}

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('service-account'));
}, 240_000);

afterAll(() => cleanup(), 60_000);

describe('create: true', () => {
  const name = 'sa-created';

  it('creates a ServiceAccount the HelloWorld owns, and the API pods run as it without a token', async () => {
    apply(name, { serviceAccount: { create: true, annotations: { 'eks.amazonaws.com/role-arn': ROLE } } });
    await waitForState(name, runsAs(name), `${name} converged, its pods running as ${name}`);
    const uid = get('helloworld', name).metadata?.uid;
    const account = serviceAccount(name);
    expect(account.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'HelloWorld', name, uid, controller: true, blockOwnerDeletion: true }),
    ]);
    expect(account.metadata?.labels).toMatchObject({
      'app.kubernetes.io/instance': name,
      'app.kubernetes.io/managed-by': 'helloworld-operator',
    });
    expect(account.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(ROLE);
    expect(account.automountServiceAccountToken).toBe(false);
    const withFields = JSON.parse(
      kubectl(['get', 'serviceaccount', name, '-n', namespace, '-o', 'json', '--show-managed-fields']),
    ) as V1ServiceAccount;
    const appliers = (withFields.metadata?.managedFields ?? []).filter((f) => f.operation === 'Apply');
    expect(appliers.map((f) => f.manager)).toEqual(['helloworld-operator']);

    const template = podSpec(name);
    expect(template).toMatchObject({ serviceAccountName: name, automountServiceAccountToken: false });
    const pods = await waitFor<V1Pod[]>(
      () => {
        const found = apiPods(name);
        return found.length === 2 ? found : false;
      },
      { describe: `two API pods of ${name}`, timeoutMs: 60_000 },
    );
    for (const pod of pods) {
      expect(pod.spec?.serviceAccountName).toBe(name);
      // No API token volume: automountServiceAccountToken stayed false.
      expect(pod.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-'))).toBe(false);
    }
  }, 120_000);

  it('follows the spec when the annotations change, and rolls the pods onto the new role', async () => {
    const revision = () => templateAnnotations(name)?.['hello.dev/revision'];
    const before = revision();
    apply(name, {
      serviceAccount: { create: true, annotations: { 'eks.amazonaws.com/role-arn': OTHER_ROLE } },
    });
    await waitFor(
      () => {
        ensureServiceAccountSchema();
        return serviceAccount(name).metadata?.annotations?.['eks.amazonaws.com/role-arn'] === OTHER_ROLE;
      },
      { describe: `the role annotation of ServiceAccount ${name} to follow the spec`, timeoutMs: 60_000 },
    );
    // IRSA's webhook sets AWS_ROLE_ARN when a pod is created: only new pods see the new role.
    await waitFor(() => revision() !== before, {
      describe: `the pod template of ${name} to change with the role`,
      timeoutMs: 60_000,
    });
  }, 90_000);

  it('goes with the HelloWorld', async () => {
    kubectl(['delete', 'helloworld', name, '-n', namespace, '--wait=true']);
    await waitFor(() => Promise.resolve(!exists('serviceaccount', name)), {
      describe: `the garbage collector to delete ServiceAccount ${name}`,
      timeoutMs: 90_000,
    });
  }, 120_000);
});

describe("someone else's ServiceAccount under the name create: true would use", () => {
  const name = 'sa-theirs';

  it('is left untouched, the HelloWorld says ChildConflict, and no pods are created', async () => {
    kubectl(
      ['create', '-n', namespace, '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: {
          name,
          labels: { app: 'theirs' },
          annotations: { 'eks.amazonaws.com/role-arn': 'theirs' },
        },
      }),
    );
    const before = serviceAccount(name);
    apply(name, { serviceAccount: { create: true, annotations: { 'eks.amazonaws.com/role-arn': ROLE } } });
    const hw = await waitForState(name, degradedBy('ChildConflict'), `${name}: ChildConflict`);
    expect(messageOf(hw, 'Degraded')).toContain(
      `ServiceAccount ${name} exists and is not controlled by this HelloWorld: it has no controller`,
    );
    expect(messageOf(hw, 'Degraded')).toContain(`held back until they are resolved: Deployment/${name}`);
    // Long enough for the conflict's requeue (15 s) to come round at least once.
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const after = serviceAccount(name);
    expect(after.metadata).toMatchObject({
      resourceVersion: before.metadata?.resourceVersion,
      labels: { app: 'theirs' },
      annotations: { 'eks.amazonaws.com/role-arn': 'theirs' },
    });
    expect(after.metadata?.ownerReferences).toBeUndefined();
    expect(exists('deployment', name)).toBe(false);
  }, 150_000);

  it('converges by itself once that ServiceAccount is deleted, and then owns its own', async () => {
    kubectl(['delete', 'serviceaccount', name, '-n', namespace, '--wait=true']);
    await waitForState(name, runsAs(name), `${name} converged, its pods running as ${name}`);
    const uid = get('helloworld', name).metadata?.uid;
    const account = serviceAccount(name);
    expect(account.metadata?.ownerReferences?.find((r) => r.controller === true)?.uid).toBe(uid);
    expect(account.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(ROLE);
    expect(podSpec(name)?.serviceAccountName).toBe(name);
  }, 120_000);
});

describe('name: an existing ServiceAccount', () => {
  const name = 'sa-named';
  const theirs = 'payments-reader';

  it('while it does not exist: Degraded with ServiceAccountNotFound, and no Deployment', async () => {
    apply(name, { serviceAccount: { name: theirs } });
    const hw = await waitForState(
      name,
      degradedBy('ServiceAccountNotFound'),
      `${name}: ServiceAccountNotFound`,
    );
    expect(messageOf(hw, 'Degraded')).toBe(
      `ServiceAccount ${theirs} (spec.serviceAccount.name) does not exist in namespace ${namespace}: create it, or set spec.serviceAccount.create: true for one the HelloWorld owns; the API pods are not changed until it exists`,
    );
    expect(exists('deployment', name)).toBe(false);
  }, 120_000);

  it('once it exists: the pods run as it, and the operator never writes to it', async () => {
    kubectl(
      ['create', '-n', namespace, '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: theirs } }),
    );
    const before = serviceAccount(theirs);
    // The user's ServiceAccount carries no operator label, so no event: the 30 s requeue finds it.
    await waitForState(name, runsAs(theirs), `${name} converged, its pods running as ${theirs}`);
    expect(podSpec(name)).toMatchObject({
      serviceAccountName: theirs,
      automountServiceAccountToken: false,
    });
    expect(exists('serviceaccount', name)).toBe(false);
    const after = serviceAccount(theirs);
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(after.metadata?.ownerReferences).toBeUndefined();
  }, 120_000);

  it('automountToken: true mounts the API token in the pods', async () => {
    apply(name, { serviceAccount: { name: theirs, automountToken: true } });
    await waitFor(
      () => {
        ensureServiceAccountSchema();
        const pods = apiPods(name).filter((p) => p.metadata?.deletionTimestamp === undefined);
        return Promise.resolve(
          pods.length > 0 &&
            pods.every((p) => p.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-'))),
        );
      },
      { describe: `the API pods of ${name} to mount the API token`, timeoutMs: 90_000 },
    );
  }, 120_000);
});
