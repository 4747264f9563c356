import { firstDifference, needsApply, parseQuantity, withDesiredHash } from './apply-diff.js';

const ANNOTATION_DESIRED_HASH = 'example.com/desired-hash';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'hello',
    namespace: 'team-a',
    labels: { 'app.kubernetes.io/name': 'hello' },
  },
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      spec: {
        containers: [
          {
            name: 'api',
            image: 'hello:1',
            args: ['--port', '8080'],
            ports: [{ containerPort: 8080, name: 'http' }],
            resources: { requests: { cpu: '0.5', memory: '1Gi' }, limits: { memory: '1Gi' } },
            env: [{ name: 'EMPTY', value: '' }],
          },
        ],
      },
    },
  },
});

/** What the API server hands back: defaults filled in, server fields added, some values normalised. */
const liveOf = (applied: ReturnType<typeof deployment>) => {
  const desired = structuredClone(applied);
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      uid: 'u-1',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2025-01-01T00:00:00Z',
      managedFields: [{ manager: 'helloworld-operator' }],
      labels: { ...desired.metadata.labels, extra: 'from-someone-else' },
      annotations: { 'deployment.kubernetes.io/revision': '3' },
    },
    spec: {
      ...desired.spec,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: {
        spec: {
          restartPolicy: 'Always',
          containers: [
            {
              name: 'api',
              image: 'hello:1',
              args: ['--port', '8080'],
              ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
              resources: { requests: { cpu: '500m', memory: '1073741824' }, limits: { memory: '1024Mi' } },
              env: [{ name: 'EMPTY' }],
              terminationMessagePath: '/dev/termination-log',
              imagePullPolicy: 'IfNotPresent',
            },
          ],
        },
      },
    },
    status: { replicas: 2, readyReplicas: 1 },
  };
};

describe('withDesiredHash', () => {
  it('stamps a hash that does not depend on a previous stamp', () => {
    const once = withDesiredHash(deployment(), ANNOTATION_DESIRED_HASH);
    const twice = withDesiredHash(once, ANNOTATION_DESIRED_HASH);
    expect(once.metadata.annotations[ANNOTATION_DESIRED_HASH]).toMatch(/^[0-9a-f]{16}$/);
    expect(twice).toEqual(once);
    expect(once.metadata.labels).toEqual(deployment().metadata.labels);
  });

  it('changes when any desired field changes', () => {
    const changed = deployment();
    changed.spec.template.spec.containers[0]!.image = 'hello:2';
    expect(
      withDesiredHash(changed, ANNOTATION_DESIRED_HASH).metadata.annotations[ANNOTATION_DESIRED_HASH],
    ).not.toBe(
      withDesiredHash(deployment(), ANNOTATION_DESIRED_HASH).metadata.annotations[ANNOTATION_DESIRED_HASH],
    );
  });
});

describe('needsApply', () => {
  it('is true when the object does not exist', () => {
    expect(needsApply(deployment(), undefined)).toBe(true);
    expect(firstDifference(deployment(), null)).toBe('');
  });

  it('is false for the read-back of what was applied (defaults, server fields, normalised values)', () => {
    const desired = deployment();
    expect(firstDifference(desired, liveOf(desired))).toBeUndefined();
  });

  it('is false when the desired hash annotation matches', () => {
    const desired = withDesiredHash(deployment(), ANNOTATION_DESIRED_HASH);
    const live = liveOf(desired);
    live.metadata.annotations = { ...live.metadata.annotations, ...desired.metadata.annotations };
    expect(needsApply(desired, live)).toBe(false);
  });

  it('is true when the desired hash annotation differs or is missing', () => {
    const desired = withDesiredHash(deployment(), ANNOTATION_DESIRED_HASH);
    const live = liveOf(desired);
    expect(firstDifference(desired, live)).toBe(`metadata.annotations.${ANNOTATION_DESIRED_HASH}`);
    (live.metadata.annotations as Record<string, string>)[ANNOTATION_DESIRED_HASH] = '0000000000000000';
    expect(needsApply(desired, live)).toBe(true);
  });

  it.each([
    ['a changed scalar', (l: ReturnType<typeof liveOf>) => void (l.spec.replicas = 5), 'spec.replicas'],
    [
      'an edited image',
      (l: ReturnType<typeof liveOf>) => void (l.spec.template.spec.containers[0]!.image = 'evil:1'),
      'spec.template.spec.containers.0.image',
    ],
    [
      'a removed label',
      (l: ReturnType<typeof liveOf>) => void (l.metadata.labels = { extra: 'x' } as never),
      'metadata.labels.app.kubernetes.io/name',
    ],
    [
      'an extra list element',
      (l: ReturnType<typeof liveOf>) => void l.spec.template.spec.containers[0]!.args.push('--debug'),
      'spec.template.spec.containers.0.args',
    ],
    [
      'a missing list element',
      (l: ReturnType<typeof liveOf>) => void l.spec.template.spec.containers[0]!.args.pop(),
      'spec.template.spec.containers.0.args',
    ],
    [
      'a different quantity',
      (l: ReturnType<typeof liveOf>) =>
        void (l.spec.template.spec.containers[0]!.resources.requests.cpu = '250m'),
      'spec.template.spec.containers.0.resources.requests.cpu',
    ],
    [
      'a changed int-or-string',
      (l: ReturnType<typeof liveOf>) => void (l.spec.strategy.rollingUpdate.maxSurge = '25%' as never),
      'spec.strategy.rollingUpdate.maxSurge',
    ],
    [
      'a deleted spec',
      (l: ReturnType<typeof liveOf>) => {
        delete (l as { spec?: unknown }).spec;
      },
      'spec',
    ],
  ])('detects %s', (_name, mutate, path) => {
    const desired = deployment();
    const live = liveOf(desired);
    mutate(live);
    expect(firstDifference(desired, live)).toBe(path);
    expect(needsApply(desired, live)).toBe(true);
  });

  it('treats missing, null, empty and zero values alike when desired sets nothing', () => {
    expect(needsApply({ a: {}, b: [], c: '', d: false, e: 0, f: null }, {})).toBe(false);
    expect(needsApply({ m: { x: '' } }, { m: {} })).toBe(false);
    expect(needsApply({ a: [] }, { a: ['x'] })).toBe(true);
    expect(needsApply({ e: 0 }, { e: 3 })).toBe(true);
    expect(needsApply({ d: false }, { d: true })).toBe(true);
  });

  it('treats an empty desired map as a subset of any live map', () => {
    expect(needsApply({ metadata: { annotations: {} } }, { metadata: { annotations: { a: 'b' } } })).toBe(
      false,
    );
  });

  it('compares int-or-string values by text', () => {
    expect(needsApply({ targetPort: 8080 }, { targetPort: '8080' })).toBe(false);
    expect(needsApply({ targetPort: '8080' }, { targetPort: 8080 })).toBe(false);
    expect(needsApply({ targetPort: 'http' }, { targetPort: 8080 })).toBe(true);
  });

  it('normalises quantities only where quantities live', () => {
    expect(needsApply({ limits: { memory: '1Gi' } }, { limits: { memory: '1024Mi' } })).toBe(false);
    expect(needsApply({ storage: '1G' }, { storage: '1000M' })).toBe(false);
    expect(needsApply({ image: '1e3' }, { image: '1000' })).toBe(true);
  });

  it('ignores server-owned metadata and status even if desired carries them', () => {
    const desired = { metadata: { name: 'a', resourceVersion: '1', uid: 'x' }, status: { phase: 'X' } };
    expect(needsApply(desired, { metadata: { name: 'a', resourceVersion: '2', uid: 'y' } })).toBe(false);
    expect(needsApply({ spec: { status: 'x' } }, { spec: { status: 'y' } })).toBe(true);
  });

  it('detects a type change', () => {
    expect(needsApply({ a: { b: 1 } }, { a: 'x' })).toBe(true);
    expect(needsApply({ a: [1] }, { a: { 0: 1 } })).toBe(true);
    expect(needsApply({ a: 'x' }, { a: true })).toBe(true);
  });
});

describe('parseQuantity', () => {
  it.each([
    ['1', 1_000_000_000n],
    ['0.5', 500_000_000n],
    ['500m', 500_000_000n],
    ['.5', 500_000_000n],
    ['1k', 1_000_000_000_000n],
    ['1Ki', 1024_000_000_000n],
    ['1Gi', 1073741824_000_000_000n],
    ['1073741824', 1073741824_000_000_000n],
    ['1e3', 1000_000_000_000n],
    ['1E-3', 1_000_000n],
    ['0.5Gi', 536870912_000_000_000n],
    ['1n', 1n],
    ['0.1n', 1n], // rounded up, like the API server
    ['-2m', -2_000_000n],
    ['100u', 100_000n],
  ])('%s', (text, nano) => {
    expect(parseQuantity(text)).toBe(nano);
  });

  it.each(['', 'abc', '1Gb', '1.2.3', 'Mi', '--1'])('rejects %p', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});
