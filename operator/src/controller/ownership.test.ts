import type { KubernetesObject, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld } from '../crd/types.js';
import { desiredState } from '../builders/index.js';
import { buildRedisStatefulSet } from '../builders/redis.js';
import {
  claimConflict,
  claimNames,
  conflictMessage,
  judgeOwnership,
  keyOf,
  planChildren,
  prerequisites,
  type Ownership,
} from './ownership.js';

const hw: HelloWorld = {
  apiVersion: 'hello.dev/v1alpha1',
  kind: 'HelloWorld',
  metadata: { name: 'demo', namespace: 'team', uid: 'uid-demo' },
  spec: { image: 'hello/api:1' },
};
const spec = resolveSpec(hw.spec);
const desired = desiredState(hw, spec, {
  redis: { password: 'a'.repeat(32), checksum: 'c' },
  prometheusOperatorInstalled: false,
}).apply;

const owned = (uid: string, kind = 'HelloWorld', name = 'demo') => ({
  metadata: { ownerReferences: [{ apiVersion: 'hello.dev/v1alpha1', kind, name, uid, controller: true }] },
});

function ownershipWith(foreign: Record<string, string>): Map<string, Ownership> {
  return new Map(
    desired.map((obj) => {
      const key = keyOf(obj);
      const conflict = foreign[key];
      return [key, conflict === undefined ? { state: 'absent' } : { state: 'foreign', conflict }] as const;
    }),
  );
}

const plan = (foreign: Record<string, string>) =>
  planChildren(desired, ownershipWith(foreign), prerequisites(hw, true));
const applied = (foreign: Record<string, string>) => plan(foreign).apply.map((c) => keyOf(c.object));

describe('judgeOwnership', () => {
  it('takes only an object whose controller is this very HelloWorld (by uid)', () => {
    expect(judgeOwnership(hw, undefined)).toEqual({ state: 'absent' });
    const ours = { kind: 'Service', ...owned('uid-demo') };
    expect(judgeOwnership(hw, ours)).toEqual({ state: 'ours', live: ours });
    const cases: KubernetesObject[] = [
      { kind: 'Service', metadata: { name: 'demo' } },
      { kind: 'Service', metadata: { name: 'demo', ...owned('uid-old').metadata } },
      { kind: 'Service', metadata: { name: 'demo', ...owned('uid-other', 'HelloWorld', 'demo').metadata } },
      // An owner reference with this uid that is not the controller does not make it ours.
      {
        kind: 'Service',
        metadata: {
          name: 'demo',
          ownerReferences: [{ ...owned('uid-demo').metadata.ownerReferences[0]!, controller: false }],
        },
      },
    ];
    for (const obj of cases) expect(judgeOwnership(hw, obj).state).toBe('foreign');
  });

  it('names the object and who controls it', () => {
    const obj = { kind: 'Service', metadata: { name: 'demo', ...owned('u1', 'Deployment', 'web').metadata } };
    expect(judgeOwnership(hw, obj)).toEqual({
      state: 'foreign',
      conflict:
        'Service demo exists and is not controlled by this HelloWorld: it is controlled by Deployment web (uid u1)',
    });
    expect(judgeOwnership(hw, { kind: 'Secret', metadata: { name: 'demo-redis-auth' } })).toMatchObject({
      conflict: expect.stringContaining('it has no controller') as unknown,
    });
  });

  it('never takes anything for a HelloWorld without a uid', () => {
    const noUid = { ...hw, metadata: { ...hw.metadata, uid: '' } };
    expect(judgeOwnership(noUid, { kind: 'Service', ...owned('') }).state).toBe('foreign');
  });
});

describe('planChildren', () => {
  it('applies every child when nothing conflicts', () => {
    expect(plan({})).toEqual({
      apply: desired.map((object) => ({ object, live: undefined })),
      conflicts: [],
      blocked: [],
    });
  });

  it("holds the API Deployment back when its Service is someone else's, and applies the rest", () => {
    const result = plan({ 'Service/demo': 'Service demo is theirs' });
    expect(result.conflicts).toEqual(['Service demo is theirs']);
    expect(result.blocked).toEqual(['Deployment/demo', 'PodDisruptionBudget/demo']);
    expect(applied({ 'Service/demo': 'x' })).toEqual([
      'Secret/demo-redis-auth',
      'Service/demo-redis',
      'StatefulSet/demo-redis',
      'NetworkPolicy/demo-redis',
    ]);
  });

  it.each([
    ['Secret/demo-redis-auth', ['StatefulSet/demo-redis', 'Deployment/demo', 'PodDisruptionBudget/demo']],
    ['NetworkPolicy/demo-redis', ['StatefulSet/demo-redis', 'Deployment/demo', 'PodDisruptionBudget/demo']],
    ['Service/demo-redis', ['Deployment/demo', 'PodDisruptionBudget/demo']],
    ['StatefulSet/demo-redis', ['Deployment/demo', 'PodDisruptionBudget/demo']],
    ['Deployment/demo', ['PodDisruptionBudget/demo']],
    ['PodDisruptionBudget/demo', []],
  ])("someone else's %s holds back %j", (key, blocked) => {
    const result = plan({ [key]: 'theirs' });
    expect(result.blocked).toEqual(blocked);
    expect(result.apply.map((c) => keyOf(c.object))).not.toContain(key);
  });

  it('holds monitoring back with the Deployment, and a foreign ServiceMonitor holds nothing back', () => {
    const monitoring = [
      { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'demo' } },
      { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'demo' } },
    ];
    const all = [...desired, ...monitoring];
    const with_ = (foreign: string) =>
      planChildren(
        all,
        new Map(
          all.map((obj) => {
            const key = keyOf(obj);
            const own: Ownership =
              key === foreign ? { state: 'foreign', conflict: 'theirs' } : { state: 'absent' };
            return [key, own] as const;
          }),
        ),
        prerequisites(hw, true),
      );
    expect(with_('Deployment/demo').blocked).toEqual([
      'PodDisruptionBudget/demo',
      'ServiceMonitor/demo',
      'PrometheusRule/demo',
    ]);
    expect(with_('ServiceMonitor/demo').blocked).toEqual([]);
    expect(with_('PrometheusRule/demo').apply.map((c) => keyOf(c.object))).toContain('ServiceMonitor/demo');
  });

  it('reports a conflict of a child left out of the desired ones (a Secret whose password is unknown)', () => {
    const withoutSecret = desired.filter((obj) => obj.kind !== 'Secret' && obj.kind !== 'StatefulSet');
    const ownership = ownershipWith({});
    ownership.set('Secret/demo-redis-auth', { state: 'foreign', conflict: 'Secret is theirs' });
    const result = planChildren(withoutSecret, ownership, prerequisites(hw, true));
    expect(result.conflicts).toEqual(['Secret is theirs']);
    expect(result.blocked).toEqual(['Deployment/demo', 'PodDisruptionBudget/demo']);
  });

  it('applies over the HelloWorld’s own objects with their live version', () => {
    const live = { kind: 'Service', metadata: { name: 'demo', uid: 'svc-uid' } };
    const ownership = ownershipWith({});
    ownership.set('Service/demo', { state: 'ours', live });
    const result = planChildren(desired, ownership, prerequisites(hw, true));
    expect(result.apply.find((c) => keyOf(c.object) === 'Service/demo')?.live).toBe(live);
  });

  it('holds the Deployment back while the ServiceAccount it would create is someone else’s', () => {
    const withAccount: HelloWorld = { ...hw, spec: { ...hw.spec, serviceAccount: { create: true } } };
    const children = desiredState(withAccount, resolveSpec(withAccount.spec), {
      redis: { password: 'a'.repeat(32), checksum: 'c' },
      prometheusOperatorInstalled: false,
    }).apply;
    const ownership = new Map<string, Ownership>(children.map((obj) => [keyOf(obj), { state: 'absent' }]));
    ownership.set('ServiceAccount/demo', { state: 'foreign', conflict: 'ServiceAccount demo is theirs' });
    const result = planChildren(children, ownership, prerequisites(hw, true, true));
    expect(result.conflicts).toEqual(['ServiceAccount demo is theirs']);
    expect(result.blocked).toEqual(['Deployment/demo', 'PodDisruptionBudget/demo']);
    // Without create, the Deployment does not wait on a ServiceAccount of that name.
    expect(prerequisites(hw, true)('Deployment/demo')).not.toContain('ServiceAccount/demo');
  });

  it('says what is held back and how to resolve it', () => {
    expect(conflictMessage(plan({ 'Service/demo': 'Service demo is theirs' }))).toBe(
      'Service demo is theirs. The operator does not write to objects it does not control: delete or rename them; held back until they are resolved: Deployment/demo, PodDisruptionBudget/demo',
    );
  });
});

describe('the Redis volume claims', () => {
  const sts = buildRedisStatefulSet(hw, spec.redis as Extract<typeof spec.redis, { mode: 'Managed' }>, 'c');
  const claim = (labels: Record<string, string>, controller?: string): V1PersistentVolumeClaim => ({
    metadata: {
      name: 'data-demo-redis-0',
      labels,
      ...(controller && owned(controller, 'StatefulSet', 'other').metadata),
    },
  });
  const ours = {
    'app.kubernetes.io/name': 'helloworld',
    'app.kubernetes.io/instance': 'demo',
    'app.kubernetes.io/component': 'redis',
  };

  it('are named as the StatefulSet controller names them', () => {
    expect(claimNames(sts)).toEqual(['data-demo-redis-0']);
  });

  it('may be a volume this instance kept (whenDeleted: Retain), never one of someone else', () => {
    expect(claimConflict(hw, claim(ours))).toBeUndefined();
    expect(claimConflict(hw, claim({ app: 'db' }))).toBe(
      "PersistentVolumeClaim data-demo-redis-0 exists and is not this HelloWorld's Redis volume: it does not carry this HelloWorld's Redis labels",
    );
    expect(claimConflict(hw, claim(ours, 'u9'))).toContain('it is controlled by StatefulSet other (uid u9)');
  });
});
