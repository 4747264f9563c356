// The attacker's side of ownership, on the local cluster's API server with the operator as a process:
// an object that already stands under a child's name and is not the HelloWorld's is never written to
// (resourceVersion, owner references and selector stay as they were), the HelloWorld says ChildConflict
// once, in a condition and one Warning event; deleting the object lets the HelloWorld converge by itself.
import { type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { loadKubeConfig } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  helloWorld,
  kubectl,
  kubectlGet,
  operatorInNamespace,
  type OperatorProcess,
  simulatedSpec,
  waitForHelloWorld,
} from '../support/operator.js';
import type { HelloWorld, HelloWorldSpec } from '../../operator/src/crd/types.js';

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: () => Promise<void>;

const theirs = { app: 'theirs' };
const meta = (name: string) => ({ name, labels: theirs });
const podTemplate = {
  metadata: { labels: theirs },
  spec: { containers: [{ name: 'c', image: 'theirs:1' }] },
};

interface Case {
  /** The HelloWorld's name; the foreign object takes the child's name from it. */
  hw: string;
  spec?: Partial<HelloWorldSpec>;
  foreign: (hw: string) => KubernetesObject;
}

/** One case per child kind: someone else's object under exactly the name the HelloWorld would use. */
const cases: Case[] = [
  {
    hw: 'c-deploy',
    foreign: (hw) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(hw),
      spec: { replicas: 0, selector: { matchLabels: theirs }, template: podTemplate },
    }),
  },
  {
    hw: 'c-svc',
    foreign: (hw) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(hw),
      spec: { selector: theirs, ports: [{ port: 80 }] },
    }),
  },
  {
    hw: 'c-pdb',
    foreign: (hw) => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(hw),
      spec: { selector: { matchLabels: theirs }, minAvailable: 1 },
    }),
  },
  {
    hw: 'c-hpa',
    spec: { autoscaling: { minReplicas: 1, maxReplicas: 3 } },
    foreign: (hw) => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(hw),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'theirs' },
        minReplicas: 1,
        maxReplicas: 2,
      },
    }),
  },
  {
    hw: 'c-netpol',
    foreign: (hw) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(`${hw}-redis`),
      spec: { podSelector: { matchLabels: theirs }, policyTypes: ['Ingress'] },
    }),
  },
  {
    hw: 'c-rsts',
    foreign: (hw) => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(`${hw}-redis`),
      spec: { replicas: 0, serviceName: 'theirs', selector: { matchLabels: theirs }, template: podTemplate },
    }),
  },
  {
    hw: 'c-rsvc',
    foreign: (hw) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(`${hw}-redis`),
      spec: { selector: theirs, ports: [{ port: 6379 }] },
    }),
  },
  {
    hw: 'c-rsecret',
    foreign: (hw) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(`${hw}-redis-auth`),
      // Even a Secret that looks like the operator's (its label, a valid password) is not taken.
      data: { password: Buffer.from('their-password-0123456789').toString('base64') },
    }),
  },
  {
    hw: 'c-pvc',
    foreign: (hw) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: meta(`data-${hw}-redis-0`),
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    }),
  },
];

const kindOf = (obj: KubernetesObject): string => obj.kind ?? '';
const nameOf = (obj: KubernetesObject): string => obj.metadata?.name ?? '';

function ownerUid(obj: KubernetesObject): string | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true)?.uid;
}

/** The Warning events with `reason` about a HelloWorld, summed over their counts. */
function eventCount(hw: string, reason: string): number {
  const list = JSON.parse(
    kubectl([
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      `involvedObject.name=${hw},involvedObject.kind=HelloWorld,reason=${reason}`,
      '-o',
      'json',
    ]),
  ) as { items: { count?: number }[] };
  return list.items.reduce((sum, e) => sum + (e.count ?? 1), 0);
}

/** The object with its managedFields, which `kubectl get` leaves out unless asked. */
const withWriters = (kind: string, name: string): KubernetesObject =>
  JSON.parse(
    kubectl(['get', kind, name, '-n', namespace, '-o', 'json', '--show-managed-fields']),
  ) as KubernetesObject;

const degradedBy = (reason: string) => (hw: HelloWorld) => conditionOf(hw, 'Degraded')?.reason === reason;
const converged = (hw: HelloWorld) =>
  conditionOf(hw, 'Reconciled')?.status === 'True' && conditionOf(hw, 'Degraded')?.status === 'False';

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('ownership'));
}, 240_000);

afterAll(() => cleanup(), 60_000);

describe("someone else's object under a child's name", () => {
  const before = new Map<string, KubernetesObject>();

  beforeAll(async () => {
    for (const c of cases) {
      const obj = c.foreign(c.hw);
      kubectl(['create', '-n', namespace, '-f', '-'], JSON.stringify(obj));
      before.set(c.hw, withWriters(kindOf(obj), nameOf(obj)));
    }
    for (const c of cases) applyHelloWorld(helloWorld(namespace, c.hw, simulatedSpec(c.spec)));
    await Promise.all(
      cases.map((c) =>
        waitForHelloWorld(
          kc,
          namespace,
          c.hw,
          degradedBy('ChildConflict'),
          `${c.hw}: Degraded=ChildConflict`,
          {
            operator,
            timeoutMs: 120_000,
          },
        ),
      ),
    );
    // Long enough for the conflicts' requeues to come round at least once.
    await new Promise((resolve) => setTimeout(resolve, 20_000));
  }, 240_000);

  it.each(cases.map((c) => [c.hw, c] as const))('%s: is left untouched, and named in the status', (hw, c) => {
    const obj = c.foreign(hw);
    const was = before.get(hw)!;
    const now = withWriters(kindOf(obj), nameOf(obj));
    // Who wrote the object outside its status: the same writers as before the operator saw it. (Not the
    // resourceVersion: the Deployment and StatefulSet controllers may still write their status.)
    const writers = (o: KubernetesObject) =>
      (o.metadata?.managedFields ?? [])
        .filter((entry) => entry.subresource === undefined)
        .map((entry) => `${entry.manager} ${entry.operation}`);
    expect({
      writers: writers(now),
      ownerReferences: now.metadata?.ownerReferences,
      labels: now.metadata?.labels,
      spec: (now as { spec?: unknown }).spec,
    }).toEqual({
      writers: writers(was),
      ownerReferences: undefined,
      labels: theirs,
      spec: (was as { spec?: unknown }).spec,
    });
    const status = kubectlGet('helloworld', hw, namespace) as HelloWorld;
    for (const type of ['Degraded', 'Reconciled']) {
      const condition = status.status?.conditions?.find((cond) => cond.type === type);
      expect(condition).toMatchObject({
        reason: 'ChildConflict',
        status: type === 'Degraded' ? 'True' : 'False',
      });
      expect(condition?.message).toContain(
        `${kindOf(obj)} ${nameOf(obj)} exists and is not ${kindOf(obj) === 'PersistentVolumeClaim' ? "this HelloWorld's Redis volume" : 'controlled by this HelloWorld'}`,
      );
    }
    // One Warning, not one per requeue.
    expect(eventCount(hw, 'ChildConflict')).toBe(1);
  });

  it('holds the API Deployment back while its Service is someone else’s', () => {
    expect(() => kubectlGet('deployment', 'c-svc', namespace)).toThrow(/NotFound|not found/);
    expect(() => kubectlGet('deployment', 'c-rsecret', namespace)).toThrow(/NotFound|not found/);
    expect(() => kubectlGet('statefulset', 'c-rsecret-redis', namespace)).toThrow(/NotFound|not found/);
    expect(() => kubectlGet('statefulset', 'c-pvc-redis', namespace)).toThrow(/NotFound|not found/);
  });

  it('converges by itself once the object is deleted', async () => {
    for (const c of cases) {
      const obj = c.foreign(c.hw);
      kubectl(['delete', kindOf(obj), nameOf(obj), '-n', namespace, '--wait=true']);
    }
    await Promise.all(
      cases.map((c) =>
        waitForHelloWorld(kc, namespace, c.hw, converged, `${c.hw}: converged after the conflict went`, {
          operator,
          timeoutMs: 120_000,
        }),
      ),
    );
    for (const c of cases) {
      const obj = c.foreign(c.hw);
      if (kindOf(obj) === 'PersistentVolumeClaim') continue; // the StatefulSet controller's own
      const uid = kubectlGet('helloworld', c.hw, namespace).metadata?.uid;
      expect({ hw: c.hw, owner: ownerUid(kubectlGet(kindOf(obj), nameOf(obj), namespace)) }).toEqual({
        hw: c.hw,
        owner: uid,
      });
    }
  }, 180_000);
});

describe('another HelloWorld whose children carry the operator label', () => {
  it("does not take over a child of another HelloWorld (one named like the other's Redis)", async () => {
    // HelloWorld "c-twin" owns the Service "c-twin-redis"; a HelloWorld named "c-twin-redis" wants the same name.
    applyHelloWorld(helloWorld(namespace, 'c-twin', simulatedSpec()));
    await waitForHelloWorld(kc, namespace, 'c-twin', converged, 'c-twin converged', { operator });
    const service = kubectlGet('service', 'c-twin-redis', namespace);
    applyHelloWorld(helloWorld(namespace, 'c-twin-redis', simulatedSpec()));
    const hw = await waitForHelloWorld(
      kc,
      namespace,
      'c-twin-redis',
      degradedBy('ChildConflict'),
      'c-twin-redis: ChildConflict',
      { operator },
    );
    expect(conditionOf(hw, 'Degraded')).toMatchObject({ status: 'True' });
    expect(hw.status?.conditions?.find((c) => c.type === 'Degraded')?.message).toContain(
      'Service c-twin-redis exists and is not controlled by this HelloWorld: it is controlled by HelloWorld c-twin',
    );
    const after = kubectlGet('service', 'c-twin-redis', namespace);
    expect(after.metadata?.resourceVersion).toBe(service.metadata?.resourceVersion);
  }, 120_000);
});
