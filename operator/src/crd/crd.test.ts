/**
 * The CRD in crds/ and the TypeScript API must agree: every field of the types has a schema, and the
 * API server's OpenAPI defaults never change what resolveSpec makes of a spec.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PROXY_ALLOWANCE_MS, resolveSpec } from './defaults.js';
import type { HelloWorldSpec, HelloWorldStatus, VerificationStatus } from './types.js';

interface Schema {
  type?: string;
  default?: unknown;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message?: string; fieldPath?: string }[];
}

interface Crd {
  spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
}

const crd = parse(
  readFileSync(new URL('../../../crds/hello.dev_helloworlds.yaml', import.meta.url), 'utf8'),
) as Crd;
const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
const specSchema = root.properties!.spec!;
const statusSchema = root.properties!.status!;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Structural defaulting as the API server does it: absent fields with a default get it, recursively. */
function applyDefaults(value: unknown, schema: Schema): unknown {
  if (Array.isArray(value)) return schema.items ? value.map((v) => applyDefaults(v, schema.items!)) : value;
  if (!isObject(value)) return value;
  const out: Json = { ...value };
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (out[key] === undefined && sub.default !== undefined) out[key] = structuredClone(sub.default);
    if (out[key] !== undefined) out[key] = applyDefaults(out[key], sub);
  }
  if (schema.additionalProperties) {
    for (const key of Object.keys(out)) {
      if (!schema.properties?.[key]) out[key] = applyDefaults(out[key], schema.additionalProperties);
    }
  }
  return out;
}

const defaulted = (spec: HelloWorldSpec): HelloWorldSpec => applyDefaults(spec, specSchema) as HelloWorldSpec;

/** Paths of a value that the schema has no place for (pruned by the API server). */
function unknownPaths(value: unknown, schema: Schema, path: string): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return [];
  if (Array.isArray(value)) {
    if (!schema.items) return [path];
    return value.flatMap((v, i) => unknownPaths(v, schema.items!, `${path}[${i}]`));
  }
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const sub = schema.properties?.[key] ?? schema.additionalProperties;
    if (sub) return unknownPaths(v, sub, `${path}.${key}`);
    return schema['x-kubernetes-preserve-unknown-fields'] ? [] : [`${path}.${key}`];
  });
}

/** Every schema node that kubectl explain would show without a description. */
function undescribed(schema: Schema, path: string): string[] {
  const own = schema.description ? [] : [path];
  const fields = { ...schema.properties, ...schema.items?.properties };
  const children = Object.entries(fields).flatMap(([k, s]) => undescribed(s, `${path}.${k}`));
  return [...own, ...children];
}

/** Every field optional in the types made required, so this file stops compiling when a field is added. */
type Everything<T> = T extends (infer U)[]
  ? Everything<U>[]
  : T extends object
    ? { [K in keyof T]-?: Everything<T[K]> }
    : T;

const everySpecField: Everything<HelloWorldSpec> = {
  image: 'registry.example.com/hello-api:1.0.0',
  replicas: 3,
  autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 60 },
  disruptionBudget: { minAvailable: 1, maxUnavailable: '25%' },
  rollout: {
    maxSurge: 1,
    maxUnavailable: '10%',
    progressDeadlineSeconds: 60,
    autoRollback: false,
    crashLoopRestartThreshold: 5,
    historyLimit: 20,
    strategy: 'Canary',
    steps: [
      {
        canary: { replicas: '25%' },
        verify: {},
        pause: { duration: '2m', timeout: '1h', onTimeout: 'Promote' },
      },
    ],
    verification: {
      enabled: true,
      smoke: {
        enabled: true,
        defaultChecks: false,
        maxLatencyMs: 400,
        checks: [
          {
            name: 'create',
            method: 'PUT',
            path: '/hello/alice',
            body: '{"dateOfBirth":"1990-05-01"}',
            expectStatus: 204,
            contains: '',
            jsonField: { name: 'message', equals: 'ok' },
            timeoutSeconds: 3,
            retries: 1,
            maxLatencyMs: 800,
            dryRun: true,
          },
        ],
      },
      analysis: {
        enabled: true,
        windowSeconds: 120,
        intervalSeconds: 15,
        maxErrorRate: 0.01,
        maxP99LatencyMs: 250,
        failureLimit: 3,
        noData: 'Fail',
        probe: { enabled: true, ratePerSecond: 3, minRequests: 30 },
        thresholds: { enabled: true, dryRun: true },
        comparison: {
          enabled: true,
          dryRun: false,
          confidence: 0.995,
          minRequests: 40,
          noData: 'Fail',
          errorRateMargin: 0.01,
          latencyMarginPercent: 30,
          latencyMarginMs: 20,
        },
      },
    },
  },
  redis: {
    mode: 'Managed',
    image: 'redis:7.4-alpine',
    storage: { size: '2Gi', storageClassName: 'fast', whenDeleted: 'Delete' },
    resources: {
      claims: [{ name: 'gpu', request: 'one' }],
      limits: { memory: '1Gi' },
      requests: { cpu: '100m' },
    },
    backup: {
      schedule: '0 3 * * *',
      retain: 14,
      storage: { size: '5Gi', storageClassName: 'fast' },
      suspend: false,
    },
    restoreFrom: { claimName: 'old-redis-backup', file: 'backup-20261203T030000Z.rdb' },
    urlSecretRef: { name: 'redis-url', key: 'url' },
    external: {
      topology: 'Cluster',
      tls: {
        enabled: true,
        caFrom: {
          secretKeyRef: { name: 'redis-ca', key: 'ca.crt' },
          configMapKeyRef: { name: 'redis-ca', key: 'ca.crt' },
        },
        serverName: 'clustercfg.example.com',
      },
      username: 'hello-api',
      passwordSecretRef: { name: 'redis-auth', key: 'password' },
    },
  },
  resources: {
    claims: [{ name: 'gpu', request: 'one' }],
    limits: { memory: '512Mi' },
    requests: { cpu: '100m' },
  },
  env: [
    {
      name: 'GREETING',
      value: 'hi',
      valueFrom: {
        configMapKeyRef: { name: 'cm', key: 'k', optional: true },
        fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' },
        fileKeyRef: { volumeName: 'v', path: 'p', key: 'k', optional: true },
        resourceFieldRef: { containerName: 'api', resource: 'limits.memory', divisor: '1Mi' },
        secretKeyRef: { name: 's', key: 'k', optional: false },
      },
    },
  ],
  service: { type: 'LoadBalancer', port: 8080 },
  podAnnotations: { 'example.com/team': 'birthdays' },
  podLabels: { team: 'birthdays' },
  serviceAccount: {
    name: 'hello-api',
    create: false,
    annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/hello' },
    automountToken: false,
  },
  monitoring: {
    enabled: true,
    slo: { availability: 99.5, latencyP99Ms: 300 },
    labels: { release: 'prometheus' },
  },
  notifications: {
    enabled: true,
    webhook: { secretRef: { name: 'hooks', key: 'url' }, format: 'Slack' },
  },
};

const T = '2026-01-01T00:00:00Z';
const ROLLBACK = {
  fromRevision: 'abc',
  toRevision: 'def',
  fromImage: 'hello-api:2',
  toImage: 'hello-api:1',
  reason: 'AnalysisFailed',
  message: 'p99 900ms > 500ms',
  time: T,
};
/** lastSample is the analysis's own bookkeeping, kept schemaless (x-kubernetes-preserve-unknown-fields). */
type StatusFields = Everything<Omit<HelloWorldStatus, 'verification'>> & {
  verification: Everything<Omit<VerificationStatus, 'lastSample' | 'lastBaselineSample'>>;
};
const everyStatusField: StatusFields = {
  observedGeneration: 4,
  phase: 'RolledBack',
  replicas: 2,
  readyReplicas: 2,
  updatedReplicas: 2,
  selector: 'app.kubernetes.io/instance=hello',
  currentRevision: 'abc',
  stableRevision: 'def',
  stableImage: 'hello-api:1',
  backup: {
    lastSuccessTime: T,
    lastFile: 'backup-20260101T000000Z.rdb',
    lastSizeBytes: 1234,
    lastFailureTime: T,
    lastFailureMessage: 'boom',
    maxAgeSeconds: 90000,
  },
  failedRevision: 'abc',
  observedRetry: '1',
  observedAbort: '1',
  observedPromote: '1',
  pausedAt: T,
  canary: {
    revision: 'abc',
    stepIndex: 1,
    steps: 3,
    stepStartedAt: T,
    replicas: 1,
    readyReplicas: 1,
    stableReplicas: 3,
    message: '2/3: verify',
  },
  rolloutStartedAt: T,
  verification: {
    revision: 'abc',
    startedAt: T,
    smokePassed: true,
    analysisStartedAt: T,
    consecutiveFailures: 1,
    measurements: 2,
    noDataMeasurements: 0,
    lastMeasurementAt: T,
    lastMessage: 'error rate 0.00',
    probing: true,
    comparison: {
      measuredAt: T,
      result: 'Fail',
      counted: 'Fail',
      dryRun: false,
      message: 'canary worse than stable: ...',
      canary: { requests: 40, errorRate: 0.3, p99Ms: 9.5, medianMs: 3 },
      stable: { requests: 40, errorRate: 0, p99Ms: 9.5, medianMs: 3 },
      errorRatePValue: 0.0001,
      latencyPValue: 0.5,
    },
    dryRunFailures: [{ check: 'thresholds', firstAt: T, count: 2, message: 'p99 812 ms exceeds 500 ms' }],
  },
  lastRollback: ROLLBACK,
  history: [
    {
      revision: 'abc',
      image: 'hello-api:2',
      startTime: T,
      endTime: T,
      outcome: 'RolledBack',
      reason: 'AnalysisFailed',
      summary: 'p99 900ms > 500ms',
    },
  ],
  notifications: {
    pending: [
      {
        id: '0123456789abcdef01234567',
        reason: 'AnalysisFailed',
        transition: 'RolledBack',
        revision: 'abc',
        image: 'hello-api:2',
        rolloutStartedAt: T,
        time: T,
        message: 'p99 900ms > 500ms',
        rollback: ROLLBACK,
        attempts: 1,
      },
    ],
    lastSent: 'fedcba9876543210fedcba98',
    lastSentTime: T,
    recent: ['fedcba9876543210fedcba98'],
    sent: 3,
    failures: 1,
    dropped: 0,
    lastError: 'webhook of Secret hooks: attempt 1 of 6: the webhook answered HTTP 500',
    lastErrorTime: T,
  },
  conditions: [
    {
      type: 'Available',
      status: 'True',
      observedGeneration: 4,
      lastTransitionTime: T,
      reason: 'Ok',
      message: '',
    },
  ],
};

describe('the HelloWorld CRD', () => {
  it('has a schema for every field of HelloWorldSpec', () => {
    expect(unknownPaths(everySpecField, specSchema, 'spec')).toEqual([]);
  });

  it('has a schema for every field of HelloWorldStatus', () => {
    expect(unknownPaths(everyStatusField, statusSchema, 'status')).toEqual([]);
  });

  it('describes every field, for kubectl explain', () => {
    expect(undescribed(root, '').filter((p) => p !== '.metadata')).toEqual([]);
  });

  const specs: [string, HelloWorldSpec][] = [
    ['only an image', { image: 'hello-api:1' }],
    ['autoscaling with only maxReplicas', { image: 'hello-api:1', autoscaling: { maxReplicas: 5 } }],
    ['a PDB by maxUnavailable', { image: 'hello-api:1', disruptionBudget: { maxUnavailable: '50%' } }],
    [
      'a partial rollout',
      { image: 'hello-api:1', rollout: { maxSurge: 1, verification: { analysis: { windowSeconds: 30 } } } },
    ],
    [
      'smoke checks with only name and path',
      {
        image: 'hello-api:1',
        rollout: { verification: { smoke: { checks: [{ name: 'root', path: '/' }] } } },
      },
    ],
    ['verification disabled', { image: 'hello-api:1', rollout: { verification: { enabled: false } } }],
    [
      'a webhook with only a secretRef',
      { image: 'hello-api:1', notifications: { webhook: { secretRef: { name: 'hooks', key: 'url' } } } },
    ],
    ['notifications switched off', { image: 'hello-api:1', notifications: { enabled: false } }],
    ['an empty storage block', { image: 'hello-api:1', redis: { storage: {} } }],
    [
      'an external Redis',
      { image: 'hello-api:1', redis: { mode: 'External', urlSecretRef: { name: 'r', key: 'url' } } },
    ],
    ['a service with only a type', { image: 'hello-api:1', service: { type: 'NodePort' } }],
    ['an existing ServiceAccount', { image: 'hello-api:1', serviceAccount: { name: 'hello-api' } }],
    ['a created ServiceAccount', { image: 'hello-api:1', serviceAccount: { create: true } }],
  ];

  it('compares an absent Redis storage size as the default size', () => {
    // The volume's transition rule spells the default out, since storage itself may be absent.
    const redis = specSchema.properties!.redis!;
    const size = redis.properties!.storage!.properties!.size!.default;
    const rule = redis['x-kubernetes-validations']!.find((v) => v.fieldPath === '.storage.size')!.rule;
    const fallbacks = rule.match(/: '[^']*'\)/g);
    expect(fallbacks).toHaveLength(6);
    expect(new Set(fallbacks)).toEqual(new Set([`: '${String(size)}')`]));
    expect(resolveSpec({ image: 'x' }).redis).toMatchObject({ storage: { size } });
  });

  it.each(specs)('defaults %s to what resolveSpec resolves it to', (_name, spec) => {
    expect(resolveSpec(defaulted(spec))).toEqual(resolveSpec(spec));
  });

  it('spells out the defaults of resolveSpec, with the same values', () => {
    const spec = defaulted({
      image: 'hello-api:1',
      autoscaling: { maxReplicas: 4 },
      redis: { storage: {} },
      rollout: { verification: { smoke: { checks: [{ name: 'root', path: '/' }] } } },
      monitoring: {},
    });
    const resolved = resolveSpec({ image: 'hello-api:1', autoscaling: { maxReplicas: 4 }, redis: {} });
    // steps are the user's alone: resolved as [] with the Rolling strategy, never defaulted.
    const { verification, steps, ...rollout } = resolved.rollout;
    expect(steps).toEqual([]);

    expect(spec.replicas).toBe(resolved.replicas);
    expect(spec.autoscaling).toEqual(resolved.autoscaling);
    expect(spec.disruptionBudget).toEqual(resolved.disruptionBudget);
    expect(spec.rollout).toMatchObject(rollout);
    expect(spec.rollout?.verification?.enabled).toBe(verification.enabled);
    expect(spec.rollout?.verification?.smoke).toMatchObject({ enabled: true, defaultChecks: true });
    // comparison.noData has no default of its own: it follows analysis.noData.
    const { comparison, ...analysis } = verification.analysis;
    const { noData: comparisonNoData, ...comparisonDefaults } = comparison;
    expect(spec.rollout?.verification?.analysis).toEqual({ ...analysis, comparison: comparisonDefaults });
    expect(comparisonNoData).toBe(analysis.noData);
    expect(spec.service).toEqual(resolved.service);
    expect(resolved.redis.mode).toBe('Managed');
    expect(spec.redis).toMatchObject({ mode: 'Managed' });
    if (resolved.redis.mode === 'Managed') expect(spec.redis?.storage).toEqual(resolved.redis.storage);

    const check = resolveSpec({
      image: 'x',
      rollout: { verification: { smoke: { defaultChecks: false, checks: [{ name: 'root', path: '/' }] } } },
    }).rollout.verification.smoke.checks[0]!;
    expect(spec.rollout?.verification?.smoke?.checks?.[0]).toEqual({
      name: 'root',
      path: '/',
      method: check.method,
      expectStatus: check.expectStatus,
      timeoutSeconds: check.timeoutSeconds,
      retries: check.retries,
    });
    expect(spec.monitoring?.enabled).toBeUndefined();
    expect(spec.monitoring?.slo).toEqual(resolved.monitoring.slo);
  });
});

describe('the latency budget of the smoke checks', () => {
  const smokeOf = (spec: Omit<HelloWorldSpec, 'image'>) =>
    resolveSpec({ image: 'hello-api:1', ...spec }).rollout.verification.smoke;

  it('defaults to the p99 SLO plus the proxy allowance, for every check', () => {
    const smoke = smokeOf({ monitoring: { slo: { latencyP99Ms: 100 } } });
    expect(smoke.maxLatencyMs).toBe(100 + PROXY_ALLOWANCE_MS);
    expect(smoke.checks.map((c) => c.maxLatencyMs)).toEqual([300, 300, 300]);
    expect(smokeOf({}).maxLatencyMs).toBe(250 + PROXY_ALLOWANCE_MS);
  });

  it('takes smoke.maxLatencyMs as given, and a check’s own over it', () => {
    const smoke = smokeOf({
      rollout: {
        verification: {
          smoke: {
            maxLatencyMs: 900,
            checks: [{ name: 'slow-report', path: '/report', maxLatencyMs: 3000 }],
          },
        },
      },
    });
    expect(smoke.checks.map((c) => [c.name, c.maxLatencyMs])).toEqual([
      ['readiness', 900],
      ['store-date-of-birth', 900],
      ['read-date-of-birth', 900],
      ['slow-report', 3000],
    ]);
  });
});
