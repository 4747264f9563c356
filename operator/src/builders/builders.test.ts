import type { V1Deployment, V1PodDisruptionBudget, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld, HelloWorldSpec } from '../crd/types.js';
import { REVISION_ANNOTATION } from '../rollout/revision.js';
import { buildPdb } from './autoscaling.js';
import { buildPodTemplate, CONFIG_CHECKSUM_ANNOTATION, configChecksum, desiredState } from './index.js';

function hw(spec: Partial<HelloWorldSpec> = {}): HelloWorld {
  return {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name: 'demo', namespace: 'team-a', uid: 'uid-1', generation: 1 },
    spec: { image: 'hello/api:1.0.0', ...spec },
  };
}

function build(spec: Partial<HelloWorldSpec> = {}) {
  const h = hw(spec);
  const resolved = resolveSpec(h.spec);
  const state = desiredState(h, resolved, {
    redis: { password: PASSWORD, checksum: 'sum-1' },
    prometheusOperatorInstalled: false,
  });
  const byKind = (kind: string) => state.apply.filter((o) => o.kind === kind);
  return { state, byKind, template: state.applied.template };
}

const PASSWORD = 'pA55-word_0123456789abcdefABCDEF';

describe('desired state', () => {
  it('owns every child with a controller reference and the standard labels', () => {
    const { state } = build();
    expect(state.apply.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`).sort()).toEqual([
      'Deployment/demo',
      'NetworkPolicy/demo-redis',
      'PodDisruptionBudget/demo',
      'Secret/demo-redis-auth',
      'Service/demo',
      'Service/demo-redis',
      'StatefulSet/demo-redis',
    ]);
    for (const obj of state.apply) {
      expect(obj.metadata?.namespace).toBe('team-a');
      expect(obj.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'HelloWorld', name: 'demo', uid: 'uid-1', controller: true }),
      ]);
      expect(obj.metadata?.labels).toMatchObject({
        'app.kubernetes.io/name': 'helloworld',
        'app.kubernetes.io/instance': 'demo',
        'app.kubernetes.io/managed-by': 'helloworld-operator',
      });
    }
    // No spec.redis.backup: a backup CronJob of an earlier spec is deleted.
    expect(state.absent).toEqual([
      { apiVersion: 'batch/v1', kind: 'CronJob', name: 'demo-redis-backup' },
      // No canary in flight: a canary Deployment of an earlier rollout is deleted.
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'demo-canary' },
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'demo' },
    ]);
  });

  it('builds a hardened Deployment with the spec defaults', () => {
    const [dep] = build().byKind('Deployment') as V1Deployment[];
    const spec = dep!.spec!;
    expect(spec.replicas).toBe(2);
    expect(spec.strategy?.rollingUpdate).toEqual({ maxSurge: '25%', maxUnavailable: 0 });
    expect(spec.progressDeadlineSeconds).toBe(120);
    const pod = spec.template.spec!;
    const api = pod.containers[0]!;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(api.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(api.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(api.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(api.lifecycle?.preStop?.sleep?.seconds).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(api.lifecycle!.preStop!.sleep!.seconds);
    expect(api.env).toEqual(
      expect.arrayContaining([
        { name: 'REDIS_URL', value: 'redis://demo-redis:6379/0' },
        { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'demo-redis-auth', key: 'password' } } },
      ]),
    );
    expect(pod.topologySpreadConstraints?.map((c) => c.topologyKey)).toEqual([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
    expect(spec.template.metadata?.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      [CONFIG_CHECKSUM_ANNOTATION]: 'sum-1',
    });
  });

  it('leaves replicas to the HPA when autoscaling is on', () => {
    const { byKind, state } = build({ autoscaling: { minReplicas: 2, maxReplicas: 5 } });
    const [dep] = byKind('Deployment') as V1Deployment[];
    expect(dep!.spec).not.toHaveProperty('replicas');
    expect(byKind('HorizontalPodAutoscaler')[0]).toMatchObject({
      spec: { minReplicas: 2, maxReplicas: 5, scaleTargetRef: { kind: 'Deployment', name: 'demo' } },
    });
    expect(state.absent).toEqual([
      { apiVersion: 'batch/v1', kind: 'CronJob', name: 'demo-redis-backup' },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'demo-canary' },
    ]);
  });

  it('wires an external Redis from the user Secret and creates no managed Redis', () => {
    const { state, byKind } = build({
      redis: { mode: 'External', urlSecretRef: { name: 'memorydb', key: 'url' } },
    });
    expect(state.apply.map((o) => o.kind)).not.toContain('StatefulSet');
    const [dep] = byKind('Deployment') as V1Deployment[];
    const env = dep!.spec!.template.spec!.containers[0]!.env!;
    expect(env).toContainEqual({
      name: 'REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'memorydb', key: 'url' } },
    });
    expect(env.map((e) => e.name)).not.toContain('REDIS_PASSWORD');
  });

  it('keeps the pod template of a HelloWorld without redis.external byte for byte', () => {
    // Revisions computed by the builders before redis.external existed: a change would restart every
    // user's pods on upgrade.
    expect(build().state.applied.revision).toBe('37a7caab73');
    const external = { mode: 'External', urlSecretRef: { name: 'memorydb', key: 'url' } } as const;
    expect(build({ redis: external }).state.applied.revision).toBe('c59fe93c76');
    expect(build({ redis: { ...external, external: {} } }).state.applied.revision).toBe('c59fe93c76');
  });

  it.each([
    ['a Secret', { secretKeyRef: { name: 'memorydb-ca', key: 'ca.pem' } }],
    ['a ConfigMap', { configMapKeyRef: { name: 'memorydb-ca', key: 'ca.pem' } }],
  ])('wires cluster mode, TLS with a CA from %s mounted read-only, and an ACL user', (_from, caFrom) => {
    const { byKind } = build({
      redis: {
        mode: 'External',
        urlSecretRef: { name: 'memorydb', key: 'url' },
        external: {
          topology: 'Cluster',
          tls: { enabled: true, caFrom, serverName: 'clustercfg.hello.example.com' },
          username: 'hello-api',
          passwordSecretRef: { name: 'memorydb-acl', key: 'password' },
        },
      },
    });
    const pod = (byKind('Deployment') as V1Deployment[])[0]!.spec!.template.spec!;
    const api = pod.containers[0]!;
    expect(api.env!.filter((e) => e.name.startsWith('REDIS_'))).toEqual([
      { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'memorydb', key: 'url' } } },
      { name: 'REDIS_TOPOLOGY', value: 'cluster' },
      { name: 'REDIS_TLS', value: 'true' },
      { name: 'REDIS_TLS_CA_FILE', value: '/etc/hello/redis-ca/ca.crt' },
      { name: 'REDIS_TLS_SERVER_NAME', value: 'clustercfg.hello.example.com' },
      { name: 'REDIS_USERNAME', value: 'hello-api' },
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'memorydb-acl', key: 'password' } } },
    ]);
    expect(api.volumeMounts).toContainEqual({
      name: 'redis-ca',
      mountPath: '/etc/hello/redis-ca',
      readOnly: true,
    });
    const items = [{ key: 'ca.pem', path: 'ca.crt' }];
    expect(pod.volumes).toContainEqual(
      'secretKeyRef' in caFrom
        ? { name: 'redis-ca', secret: { secretName: 'memorydb-ca', items } }
        : { name: 'redis-ca', configMap: { name: 'memorydb-ca', items } },
    );
  });

  it('wires TLS without a CA or server name as REDIS_TLS alone, and nothing for TLS off', () => {
    const redisEnv = (tls: { enabled: boolean }) => {
      const { byKind } = build({
        redis: { mode: 'External', urlSecretRef: { name: 'm', key: 'url' }, external: { tls } },
      });
      const pod = (byKind('Deployment') as V1Deployment[])[0]!.spec!.template.spec!;
      expect(pod.volumes!.map((v) => v.name)).toEqual(['tmp']);
      return pod.containers[0]!.env!.filter((e) => e.name.startsWith('REDIS_')).map((e) => e.name);
    };
    expect(redisEnv({ enabled: true })).toEqual(['REDIS_URL', 'REDIS_TLS']);
    expect(redisEnv({ enabled: false })).toEqual(['REDIS_URL']);
  });

  it('lets user env override and user labels never break the selector', () => {
    const { byKind } = build({
      env: [{ name: 'LOG_LEVEL', value: 'debug' }],
      podLabels: { 'app.kubernetes.io/instance': 'hijack', team: 'a' },
    });
    const [dep] = byKind('Deployment') as V1Deployment[];
    const labels = dep!.spec!.template.metadata!.labels!;
    expect(labels['app.kubernetes.io/instance']).toBe('demo');
    expect(labels.team).toBe('a');
    expect(dep!.spec!.template.spec!.containers[0]!.env!.at(-1)).toEqual({
      name: 'LOG_LEVEL',
      value: 'debug',
    });
  });

  it('lets a user variable replace the operator one of the same name, listing each name once', () => {
    // Server-side apply rejects a Deployment whose env names a variable twice.
    const { byKind } = build({ env: [{ name: 'REDIS_URL', value: 'redis://elsewhere:6379/0' }] });
    const [dep] = byKind('Deployment') as V1Deployment[];
    const env = dep!.spec!.template.spec!.containers[0]!.env!;
    expect(env.filter((e) => e.name === 'REDIS_URL')).toEqual([
      { name: 'REDIS_URL', value: 'redis://elsewhere:6379/0' },
    ]);
    expect(new Set(env.map((e) => e.name)).size).toBe(env.length);
    expect(env.map((e) => e.name)).toContain('REDIS_PASSWORD');
  });

  it('configures a durable Redis whose password never reaches a command line', () => {
    const { byKind } = build({
      redis: { storage: { size: '5Gi', storageClassName: 'fast', whenDeleted: 'Delete' } },
    });
    const [sts] = byKind('StatefulSet') as V1StatefulSet[];
    const [secret] = byKind('Secret') as V1Secret[];
    const container = sts!.spec!.template.spec!.containers[0]!;
    expect(JSON.stringify(container.command)).not.toContain(PASSWORD);
    expect(container.env).toContainEqual({
      name: 'REDISCLI_AUTH',
      valueFrom: { secretKeyRef: { name: 'demo-redis-auth', key: 'password' } },
    });
    expect(sts!.spec!.volumeClaimTemplates![0]!.spec).toMatchObject({
      resources: { requests: { storage: '5Gi' } },
      storageClassName: 'fast',
    });
    expect(sts!.spec!.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Delete',
      whenScaled: 'Retain',
    });
    const config = Buffer.from(secret!.data!['redis.conf']!, 'base64').toString();
    expect(config).toContain(`requirepass ${PASSWORD}`);
    expect(config).toContain('appendonly yes');
    expect(config).toContain('appendfsync everysec');
    expect(Buffer.from(secret!.data!.password!, 'base64').toString()).toBe(PASSWORD);
    // Redis reads its configuration as it starts: the pods carry its checksum, so a new password restarts it.
    expect(sts!.spec!.template.metadata!.annotations![CONFIG_CHECKSUM_ANNOTATION]).toBe(
      configChecksum(config),
    );
  });

  it.each([
    ['a newline and a directive', `${PASSWORD}\nrename-command CONFIG ""`],
    ['a space', `${PASSWORD} slaveof evil 6379`],
    ['a quote', `${PASSWORD}"`],
    ['a backslash', `${PASSWORD}\\`],
    ['a carriage return', `${PASSWORD}\r`],
    ['too short', 'short'],
    ['too long', 'a'.repeat(129)],
  ])('never writes a password with %s into redis.conf', (_what, password) => {
    const h = hw();
    const inputs = { redis: { password, checksum: 'c' }, prometheusOperatorInstalled: false };
    expect(() => desiredState(h, resolveSpec(h.spec), inputs)).toThrow(/the Redis password/);
  });
});

describe('pod template revision', () => {
  it('is stable for the same spec and changes with the image or the config checksum', () => {
    const h = hw();
    const rev = (spec: HelloWorldSpec, sum: string) => buildPodTemplate(h, resolveSpec(spec), sum).revision;
    const base = rev(h.spec, 'a');
    expect(rev(h.spec, 'a')).toBe(base);
    expect(rev({ ...h.spec, image: 'hello/api:2.0.0' }, 'a')).not.toBe(base);
    expect(rev(h.spec, 'b')).not.toBe(base);
    expect(rev({ ...h.spec, replicas: 7 }, 'a')).toBe(base);
  });

  it('is stamped on the template it names, which the Deployment runs', () => {
    const { state, byKind } = build();
    const [dep] = byKind('Deployment') as V1Deployment[];
    expect(state.specRevision).toMatch(/^[0-9a-f]{10}$/);
    expect(state.applied.revision).toBe(state.specRevision);
    expect(dep!.spec!.template).toEqual(state.applied.template);
    expect(dep!.spec!.template.metadata?.annotations?.[REVISION_ANNOTATION]).toBe(state.specRevision);
  });
});

describe('desired state during a rollback', () => {
  it("runs the stable revision's template while the spec asks for the revision that failed", () => {
    const stable = build().state;
    const h = hw({ image: 'hello/api:2.0.0' });
    const inputs = { redis: { password: PASSWORD, checksum: 'sum-1' }, prometheusOperatorInstalled: false };
    const failedRevision = desiredState(h, resolveSpec(h.spec), inputs).specRevision;
    const rollout = {
      status: { stableRevision: stable.specRevision, failedRevision },
      annotations: {},
      replicaSets: [{ spec: { selector: {}, template: stable.applied.template } }],
    };
    const state = desiredState(h, resolveSpec(h.spec), { ...inputs, rollout });
    expect(state.specRevision).toBe(failedRevision);
    expect(state.applied).toEqual({ revision: stable.specRevision, template: stable.applied.template });
    const dep = state.apply.find((o) => o.kind === 'Deployment') as V1Deployment;
    expect(dep.spec?.template.spec?.containers[0]?.image).toBe('hello/api:1.0.0');
  });
});

describe('desired monitoring', () => {
  const monitoringOf = (enabled: boolean | undefined, installed: boolean) => {
    const h = hw({ monitoring: { enabled } });
    const state = desiredState(h, resolveSpec(h.spec), {
      redis: { password: PASSWORD, checksum: 'c' },
      prometheusOperatorInstalled: installed,
    });
    const names = (children: { kind?: string }[]) =>
      children.map((c) => c.kind).filter((kind) => kind === 'ServiceMonitor' || kind === 'PrometheusRule');
    return { reason: state.monitoring.reason, apply: names(state.apply), absent: names(state.absent) };
  };

  it.each([
    [undefined, true, 'MonitoringEnabled', ['ServiceMonitor', 'PrometheusRule'], []],
    [false, true, 'MonitoringDisabled', [], ['ServiceMonitor', 'PrometheusRule']],
    [true, false, 'PrometheusOperatorNotInstalled', [], []],
    [undefined, false, 'PrometheusOperatorNotInstalled', [], []],
  ])(
    'enabled %s, Prometheus Operator installed %s: %s',
    (enabled, installed, reason, apply: string[], absent: string[]) => {
      expect(monitoringOf(enabled, installed)).toEqual({ reason, apply, absent });
    },
  );
});

describe('disruption budget', () => {
  const pdb = (spec: Partial<HelloWorldSpec>): V1PodDisruptionBudget['spec'] => {
    const h = hw(spec);
    return buildPdb(h, resolveSpec(h.spec)).spec;
  };

  it.each<[string, Partial<HelloWorldSpec>, object]>([
    ['defaults to minAvailable 1', {}, { minAvailable: 1 }],
    ['keeps a maxUnavailable', { disruptionBudget: { maxUnavailable: '50%' } }, { maxUnavailable: '50%' }],
    [
      'keeps a percentage',
      { disruptionBudget: { minAvailable: '50%' }, replicas: 4 },
      { minAvailable: '50%' },
    ],
    ['never blocks drains with one replica', { replicas: 1 }, { maxUnavailable: 1 }],
    [
      'nor with an HPA minimum of one',
      { autoscaling: { minReplicas: 1, maxReplicas: 3 } },
      { maxUnavailable: 1 },
    ],
    [
      'allows minAvailable 0 with one replica',
      { replicas: 1, disruptionBudget: { minAvailable: 0 } },
      { minAvailable: 0 },
    ],
  ])('%s', (_name, spec, expected) => {
    const result = pdb(spec)!;
    expect(result).toMatchObject({ ...expected, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(Object.keys(result).filter((k) => k === 'minAvailable' || k === 'maxUnavailable')).toHaveLength(1);
  });
});
