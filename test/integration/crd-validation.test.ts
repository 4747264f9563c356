// The HelloWorld CRD on a real API server: what admission rejects (and with which message), what it
// defaults, the immutable Redis mode and volume, the scale subresource, kubectl explain, and the config/ tree.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { resolveSpec } from '../../operator/src/crd/defaults.js';
import type { HelloWorldSpec } from '../../operator/src/crd/types.js';
import { HOSTILE_PATHS, SAFE_PATHS } from '../support/hostile-paths.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  loadKubeConfig,
  repoRoot,
  waitFor,
} from '../support/cluster.js';

const group = 'hello.dev';
const version = 'v1alpha1';
const plural = 'helloworlds';
const crdFile = `${repoRoot}crds/hello.dev_helloworlds.yaml`;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let kc: KubeConfig;
let custom: CustomObjectsApi;
let namespace: string;
let counter = 0;

const uniqueName = (): string => `hw-${String(++counter)}`;

/** A spec fragment with an External Redis and the given `redis.external`. */
const externalRedis = (external: Json): Json => ({
  redis: { mode: 'External', urlSecretRef: { name: 's', key: 'url' }, external },
});

type Json = Record<string, unknown>;
/** A HelloWorld as plain JSON, the way it travels to and from the API server. */
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: Json;
}

function helloWorld(spec: Json, name = uniqueName()): Resource {
  return {
    apiVersion: `${group}/${version}`,
    kind: 'HelloWorld',
    metadata: { name, namespace },
    spec,
  };
}

async function create(hw: Resource): Promise<Resource> {
  return (await custom.createNamespacedCustomObject({
    group,
    version,
    plural,
    namespace,
    body: hw,
  })) as Resource;
}

async function read(name: string): Promise<Resource> {
  return (await custom.getNamespacedCustomObject({ group, version, plural, namespace, name })) as Resource;
}

async function patchSpec(name: string, spec: Json): Promise<Resource> {
  const body = { spec };
  return (await custom.patchNamespacedCustomObject(
    { group, version, plural, namespace, name, body },
    mergePatch,
  )) as Resource;
}

/** The message of the API server's rejection of `request`; fails the test when it is accepted. */
async function rejection(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    // A metav1.Status, as JSON text or already parsed; anything else is returned as it is.
    let body: unknown = error.body;
    if (typeof body === 'string' && body.startsWith('{')) body = JSON.parse(body);
    const message = (body as { message?: unknown } | undefined)?.message;
    return typeof message === 'string' ? message : String(error.body);
  }
  throw new Error('the API server accepted the request');
}

function kubectl(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return kubectlWithInput('', ...args);
}

function kubectlWithInput(
  input: string,
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('kubectl', args, {
    cwd: repoRoot,
    input,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: kubeconfigPath() },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  kc = loadKubeConfig();
  custom = kc.makeApiClient(CustomObjectsApi);
  // kubectl, as `make install` does: client-node's serializer would drop the CRD's x-kubernetes-*
  // keys (its model spells them x_kubernetes_*), and with them every CEL rule.
  const applied = kubectl('apply', '--server-side', '--force-conflicts', '-f', crdFile);
  expect(applied.stderr).toBe('');
  const extensions = kc.makeApiClient(ApiextensionsV1Api);
  await waitFor(
    async () => {
      const stored = await extensions.readCustomResourceDefinition({ name: 'helloworlds.hello.dev' });
      return stored.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    { describe: 'the HelloWorld CRD to be established', timeoutMs: 30_000 },
  );
  namespace = await createTestNamespace('crd-validation', kc);
  // An updated CRD's schema is served a moment after it is established: wait until this one's is.
  await waitFor(
    async () => {
      const request = custom.createNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
        dryRun: 'All',
        body: helloWorld({ image: 'hello-api:1', monitoring: { slo: { latencyP99Ms: 0 } } }),
      });
      return (await rejection(request)).includes('latencyP99Ms');
    },
    { describe: 'the API server to serve the HelloWorld schema', timeoutMs: 30_000 },
  );
}, 90_000);

afterAll(async () => {
  await deleteTestNamespace(namespace, { kc });
});

describe('admission rejects invalid HelloWorlds with a clear message', () => {
  const check = (path: string, extra: Record<string, unknown> = {}) => ({
    rollout: { verification: { smoke: { checks: [{ name: 'c', path, ...extra }] } } },
  });
  const cases: [string, unknown, string][] = [
    ['a missing image', { image: undefined }, 'spec.image: Required value'],
    ['an empty image', { image: '' }, 'spec.image must not be empty'],
    ['an image with whitespace', { image: 'hello api:1' }, 'spec.image must not contain whitespace'],
    [
      'negative replicas',
      { replicas: -1 },
      'spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0',
    ],
    ['absurd replicas', { replicas: 5000 }, 'should be less than or equal to 1000'],
    [
      'autoscaling without maxReplicas',
      { autoscaling: { minReplicas: 2 } },
      'spec.autoscaling.maxReplicas: Required value',
    ],
    [
      'minReplicas 0',
      { autoscaling: { minReplicas: 0, maxReplicas: 3 } },
      'spec.autoscaling.minReplicas in body should be greater than or equal to 1',
    ],
    [
      'minReplicas above maxReplicas',
      { autoscaling: { minReplicas: 5, maxReplicas: 3 } },
      'autoscaling.minReplicas must be ≤ maxReplicas',
    ],
    [
      'a PDB with both fields',
      { disruptionBudget: { minAvailable: 1, maxUnavailable: 1 } },
      'disruptionBudget must set exactly one of minAvailable or maxUnavailable',
    ],
    [
      'an empty PDB',
      { disruptionBudget: {} },
      'disruptionBudget must set exactly one of minAvailable or maxUnavailable',
    ],
    [
      'a PDB above 100%',
      { disruptionBudget: { minAvailable: '150%' } },
      'must be a non-negative integer or a percentage between 0% and 100%',
    ],
    [
      'a negative PDB',
      { disruptionBudget: { maxUnavailable: -1 } },
      'must be a non-negative integer or a percentage',
    ],
    ['a percentage without %', { rollout: { maxSurge: '25' } }, 'spec.rollout.maxSurge: Invalid value'],
    [
      'a malformed percentage',
      { rollout: { maxSurge: '2.5%' } },
      'must be a non-negative integer or a percentage such as 25%',
    ],
    ['maxUnavailable above 100%', { rollout: { maxUnavailable: '101%' } }, 'between 0% and 100%'],
    [
      'maxSurge and maxUnavailable both 0',
      { rollout: { maxSurge: 0, maxUnavailable: 0 } },
      'rollout.maxSurge and rollout.maxUnavailable must not both be zero',
    ],
    [
      'maxSurge and maxUnavailable both 0%',
      { rollout: { maxSurge: '0%', maxUnavailable: '0%' } },
      'must not both be zero',
    ],
    ['maxSurge 0 with the default maxUnavailable 0', { rollout: { maxSurge: 0 } }, 'must not both be zero'],
    [
      'a zero progress deadline',
      { rollout: { progressDeadlineSeconds: 0 } },
      'spec.rollout.progressDeadlineSeconds',
    ],
    [
      'historyLimit 0',
      { rollout: { historyLimit: 0 } },
      'spec.rollout.historyLimit in body should be greater than or equal to 1',
    ],
    [
      'historyLimit 51',
      { rollout: { historyLimit: 51 } },
      'spec.rollout.historyLimit in body should be less than or equal to 50',
    ],
    [
      'strategy Canary without steps',
      { rollout: { strategy: 'Canary' } },
      'strategy Canary needs steps, for example [{canary: {replicas: 1}}, {verify: {}}]',
    ],
    [
      'steps with the Rolling strategy',
      { rollout: { steps: [{ canary: { replicas: 1 } }] } },
      'steps are only read with strategy Canary; set strategy Canary or remove them',
    ],
    [
      'Canary with autoRollback off',
      { rollout: { strategy: 'Canary', autoRollback: false, steps: [{ canary: { replicas: 1 } }] } },
      'autoRollback: false cannot be used with strategy Canary',
    ],
    [
      'a first step that is not a canary step',
      { rollout: { strategy: 'Canary', steps: [{ verify: {} }, { canary: { replicas: 1 } }] } },
      'the first step must be a canary step',
    ],
    [
      'a step that is two things',
      { rollout: { strategy: 'Canary', steps: [{ canary: { replicas: 1 }, verify: {} }] } },
      'each step is exactly one of canary: {replicas: N}, verify: {} and pause: {...}',
    ],
    [
      'an empty step',
      { rollout: { strategy: 'Canary', steps: [{ canary: { replicas: 1 } }, {}] } },
      'each step is exactly one of',
    ],
    ...(
      [
        [0, 'an integer from 1'],
        ['0%', 'a percentage from 1%'],
        ['101%', 'a percentage from 1%'],
        ['50', 'a percentage from 1%'],
        [-1, 'an integer from 1'],
      ] as const
    ).map(([replicas, message]): [string, unknown, string] => [
      `canary replicas ${String(replicas)}`,
      { rollout: { strategy: 'Canary', steps: [{ canary: { replicas } }] } },
      message,
    ]),
    ...['0s', '2d', '1.5m', '90', '1m30s', ' 2m'].map((duration): [string, unknown, string] => [
      `a pause of ${JSON.stringify(duration)}`,
      { rollout: { strategy: 'Canary', steps: [{ canary: { replicas: 1 } }, { pause: { duration } }] } },
      'must be a whole number of seconds, minutes or hours, such as 30s, 2m or 1h',
    ]),
    [
      'a pause of 100000h',
      {
        rollout: {
          strategy: 'Canary',
          steps: [{ canary: { replicas: 1 } }, { pause: { duration: '100000h' } }],
        },
      },
      'spec.rollout.steps[1].pause.duration: Too long: may not be more than 6 bytes',
    ],
    [
      'a pause with a duration and a timeout',
      {
        rollout: {
          strategy: 'Canary',
          steps: [{ canary: { replicas: 1 } }, { pause: { duration: '1m', timeout: '1h' } }],
        },
      },
      'a pause has either a duration',
    ],
    [
      'onTimeout without a timeout',
      {
        rollout: {
          strategy: 'Canary',
          steps: [{ canary: { replicas: 1 } }, { pause: { onTimeout: 'Promote' } }],
        },
      },
      'onTimeout needs a timeout',
    ],
    [
      'more than 20 steps',
      {
        rollout: {
          strategy: 'Canary',
          steps: Array.from({ length: 21 }, () => ({ canary: { replicas: 1 } })),
        },
      },
      'must have at most 20 items',
    ],
    ['a smoke check path without /', check('hello/x'), 'smoke check path must start with a single /'],
    [
      'a smoke check body on GET',
      check('/hello/x', { body: '{}' }),
      'a smoke check body is only sent with method PUT or POST',
    ],
    ['an unknown smoke check method', check('/', { method: 'PATCH' }), 'Unsupported value: "PATCH"'],
    [
      'two smoke checks of one name',
      {
        rollout: {
          verification: {
            smoke: {
              checks: [
                { name: 'a', path: '/' },
                { name: 'a', path: '/x' },
              ],
            },
          },
        },
      },
      'Duplicate value',
    ],
    [
      'an error rate above 1',
      { rollout: { verification: { analysis: { maxErrorRate: 1.5 } } } },
      'maxErrorRate in body should be less than or equal to 1',
    ],
    [
      'an analysis window shorter than its interval',
      { rollout: { verification: { analysis: { windowSeconds: 5, intervalSeconds: 10 } } } },
      'analysis.windowSeconds must be ≥ analysis.intervalSeconds',
    ],
    [
      'a zero smoke latency budget',
      { rollout: { verification: { smoke: { maxLatencyMs: 0 } } } },
      'spec.rollout.verification.smoke.maxLatencyMs: Invalid value: 0: spec.rollout.verification.smoke.maxLatencyMs in body should be greater than or equal to 1',
    ],
    [
      'a negative smoke latency budget',
      { rollout: { verification: { smoke: { maxLatencyMs: -450 } } } },
      'smoke.maxLatencyMs in body should be greater than or equal to 1',
    ],
    [
      'a smoke latency budget above the longest timeout',
      { rollout: { verification: { smoke: { maxLatencyMs: 300_001 } } } },
      'smoke.maxLatencyMs in body should be less than or equal to 300000',
    ],
    [
      "a check's latency budget beyond its timeout",
      check('/readyz', { timeoutSeconds: 2, maxLatencyMs: 2001 }),
      "a smoke check's maxLatencyMs must be at most its timeoutSeconds × 1000: an answer slower than the timeout is never seen",
    ],
    [
      "a check's latency budget beyond the default timeout of 5 s",
      check('/readyz', { maxLatencyMs: 9000 }),
      "a smoke check's maxLatencyMs must be at most its timeoutSeconds × 1000",
    ],
    [
      'a zero probe rate',
      { rollout: { verification: { analysis: { probe: { ratePerSecond: 0 } } } } },
      'probe.ratePerSecond in body should be greater than or equal to 1',
    ],
    [
      'a probe rate above 10 per second',
      { rollout: { verification: { analysis: { probe: { ratePerSecond: 1_000_000 } } } } },
      'probe.ratePerSecond in body should be less than or equal to 10',
    ],
    [
      'a fractional probe rate',
      { rollout: { verification: { analysis: { probe: { ratePerSecond: 0.5 } } } } },
      'probe.ratePerSecond in body must be of type int32',
    ],
    [
      'a negative probe threshold',
      { rollout: { verification: { analysis: { probe: { minRequests: -1 } } } } },
      'probe.minRequests in body should be greater than or equal to 1',
    ],
    [
      'a huge probe threshold',
      { rollout: { verification: { analysis: { probe: { minRequests: 2 ** 31 } } } } },
      'probe.minRequests in body should be less than or equal to 1000',
    ],
    [
      'an unknown noData policy',
      { rollout: { verification: { analysis: { noData: 'Ignore' } } } },
      'Unsupported value: "Ignore"',
    ],
    [
      'dry-run thresholds that are switched off',
      { rollout: { verification: { analysis: { thresholds: { enabled: false, dryRun: true } } } } },
      'analysis.thresholds.dryRun needs analysis.thresholds.enabled',
    ],
    [
      'a dry-run comparison that is switched off',
      { rollout: { verification: { analysis: { comparison: { enabled: false, dryRun: true } } } } },
      'analysis.comparison.dryRun needs analysis.comparison.enabled',
    ],
    [
      'an analysis with both the thresholds and the comparison off',
      {
        rollout: {
          verification: { analysis: { thresholds: { enabled: false }, comparison: { enabled: false } } },
        },
      },
      'analysis.thresholds.enabled and analysis.comparison.enabled are both false: the analysis would judge nothing',
    ],
    [
      'a comparison confidence of 1 (nothing could ever fail)',
      { rollout: { verification: { analysis: { comparison: { confidence: 1 } } } } },
      'comparison.confidence in body should be less than 1',
    ],
    [
      'a comparison confidence below one half',
      { rollout: { verification: { analysis: { comparison: { confidence: 0.2 } } } } },
      'comparison.confidence in body should be greater than or equal to 0.5',
    ],
    [
      'a comparison on fewer than 5 requests a side',
      { rollout: { verification: { analysis: { comparison: { minRequests: 1 } } } } },
      'comparison.minRequests in body should be greater than or equal to 5',
    ],
    [
      'an error-rate margin above 1',
      { rollout: { verification: { analysis: { comparison: { errorRateMargin: 2 } } } } },
      'comparison.errorRateMargin in body should be less than or equal to 1',
    ],
    [
      'a negative latency margin',
      { rollout: { verification: { analysis: { comparison: { latencyMarginMs: -1 } } } } },
      'comparison.latencyMarginMs in body should be greater than or equal to 0',
    ],
    [
      'an unknown comparison noData policy',
      { rollout: { verification: { analysis: { comparison: { noData: 'Ignore' } } } } },
      'Unsupported value: "Ignore"',
    ],
    ['an unknown Redis mode', { redis: { mode: 'Cluster' } }, 'Unsupported value: "Cluster"'],
    [
      'External without urlSecretRef',
      { redis: { mode: 'External' } },
      'redis.urlSecretRef is required when redis.mode is External',
    ],
    [
      'urlSecretRef on a Managed Redis',
      { redis: { urlSecretRef: { name: 's', key: 'url' } } },
      'redis.urlSecretRef is only used when redis.mode is External',
    ],
    [
      'storage on an External Redis',
      { redis: { mode: 'External', urlSecretRef: { name: 's', key: 'url' }, storage: { size: '1Gi' } } },
      'redis.image, redis.storage and redis.resources apply only when redis.mode is Managed',
    ],
    [
      'redis.external on a Managed Redis',
      { redis: { external: { topology: 'Cluster' } } },
      'redis.external (cluster mode, TLS, ACL user) applies only when redis.mode is External',
    ],
    ['an unknown external topology', externalRedis({ topology: 'Sharded' }), 'Unsupported value: "Sharded"'],
    [
      'a CA with TLS off',
      externalRedis({ tls: { enabled: false, caFrom: { secretKeyRef: { name: 'ca', key: 'ca.crt' } } } }),
      'redis.external.tls.caFrom and redis.external.tls.serverName apply only when redis.external.tls.enabled is true',
    ],
    [
      'a CA from both a Secret and a ConfigMap',
      externalRedis({
        tls: {
          enabled: true,
          caFrom: {
            secretKeyRef: { name: 'ca', key: 'ca.crt' },
            configMapKeyRef: { name: 'ca', key: 'ca.crt' },
          },
        },
      }),
      'redis.external.tls.caFrom needs exactly one of secretKeyRef and configMapKeyRef',
    ],
    [
      'an empty caFrom',
      externalRedis({ tls: { enabled: true, caFrom: {} } }),
      'redis.external.tls.caFrom needs exactly one of secretKeyRef and configMapKeyRef',
    ],
    [
      'a server name with a line break',
      externalRedis({ tls: { enabled: true, serverName: 'evil.com\r\nx' } }),
      'spec.redis.external.tls.serverName in body should match',
    ],
    [
      'a user name with a space',
      externalRedis({ username: 'hello api' }),
      'spec.redis.external.username in body should match',
    ],
    [
      'a password Secret named with a path',
      externalRedis({ passwordSecretRef: { name: '../etc', key: 'password' } }),
      'spec.redis.external.passwordSecretRef.name in body should match',
    ],
    [
      'a malformed storage size',
      { redis: { storage: { size: 'big' } } },
      'spec.redis.storage.size in body should match',
    ],
    [
      'an unknown claim policy',
      { redis: { storage: { whenDeleted: 'Orphan' } } },
      'Unsupported value: "Orphan"',
    ],
    [
      'a malformed quantity',
      { resources: { requests: { cpu: 'lots' } } },
      'spec.resources.requests.cpu in body should match',
    ],
    [
      'requests above limits',
      { resources: { requests: { cpu: '1500m', memory: '64Mi' }, limits: { cpu: 1, memory: '1Gi' } } },
      'resources.requests must not exceed resources.limits',
    ],
    [
      'Redis requests above limits',
      { redis: { resources: { requests: { memory: '1Gi' }, limits: { memory: '512Mi' } } } },
      'redis.resources.requests must not exceed redis.resources.limits',
    ],
    ['port 0', { service: { port: 0 } }, 'spec.service.port in body should be greater than or equal to 1'],
    [
      'port 70000',
      { service: { port: 70000 } },
      'spec.service.port in body should be less than or equal to 65535',
    ],
    ['an ExternalName service', { service: { type: 'ExternalName' } }, 'Unsupported value: "ExternalName"'],
    [
      'env with value and valueFrom',
      { env: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] },
      'an env entry sets either value or valueFrom, not both',
    ],
    ['env without a name', { env: [{ value: 'x' }] }, 'spec.env[0].name: Required value'],
    [
      'a pod label the operator selects by',
      { podLabels: { 'app.kubernetes.io/instance': 'other' } },
      'podLabels must not set app.kubernetes.io/name',
    ],
    [
      'an invalid pod label value',
      { podLabels: { team: 'a b' } },
      'spec.podLabels.team in body should match',
    ],
    [
      'an SLO of 100%',
      { monitoring: { slo: { availability: 100 } } },
      'spec.monitoring.slo.availability in body should be less than 100',
    ],
    [
      'backups of an External Redis',
      {
        redis: { mode: 'External', urlSecretRef: { name: 's', key: 'url' }, backup: { schedule: '@daily' } },
      },
      'redis.backup and redis.restoreFrom apply only when redis.mode is Managed',
    ],
    [
      'a restore into an External Redis',
      {
        redis: {
          mode: 'External',
          urlSecretRef: { name: 's', key: 'url' },
          restoreFrom: { claimName: 'old-redis-backup' },
        },
      },
      'redis.backup and redis.restoreFrom apply only when redis.mode is Managed',
    ],
    [
      'a backup without a schedule',
      { redis: { backup: { retain: 3 } } },
      'spec.redis.backup.schedule: Required value',
    ],
    [
      'a six-field schedule',
      { redis: { backup: { schedule: '0 0 3 * * *' } } },
      'redis.backup.schedule must be five cron fields separated by single spaces',
    ],
    [
      'a schedule with a time zone prefix',
      { redis: { backup: { schedule: 'CRON_TZ=UTC 0 3 * *' } } },
      'redis.backup.schedule must be five cron fields separated by single spaces',
    ],
    [
      'an unknown schedule macro',
      { redis: { backup: { schedule: '@every 1h' } } },
      'redis.backup.schedule must be five cron fields separated by single spaces',
    ],
    [
      'a schedule with a line break',
      { redis: { backup: { schedule: '0 3 * * *\n@daily' } } },
      'redis.backup.schedule must be five cron fields separated by single spaces',
    ],
    [
      'retain 0',
      { redis: { backup: { schedule: '@daily', retain: 0 } } },
      'should be greater than or equal to 1',
    ],
    [
      'retain 1000',
      { redis: { backup: { schedule: '@daily', retain: 1000 } } },
      'should be less than or equal to 100',
    ],
    [
      'a restore file outside the claim',
      { redis: { restoreFrom: { claimName: 'old-redis-backup', file: '../data/dump.rdb' } } },
      'spec.redis.restoreFrom.file in body should match',
    ],
    [
      'a restore file that is no backup',
      { redis: { restoreFrom: { claimName: 'old-redis-backup', file: 'backup-latest.rdb' } } },
      'spec.redis.restoreFrom.file in body should match',
    ],
    [
      'a restore claim name with a slash',
      { redis: { restoreFrom: { claimName: 'a/b' } } },
      'spec.redis.restoreFrom.claimName in body should match',
    ],
    [
      'a notification webhook without a secretRef',
      { notifications: { webhook: {} } },
      'spec.notifications.webhook.secretRef: Required value',
    ],
    [
      'a notification Secret name that is no Secret name',
      { notifications: { webhook: { secretRef: { name: 'Hooks/../x', key: 'url' } } } },
      'notifications.webhook.secretRef.name must be a Secret name',
    ],
    [
      'a notification Secret key with a slash',
      { notifications: { webhook: { secretRef: { name: 'hooks', key: 'a/b' } } } },
      'notifications.webhook.secretRef.key must be a Secret key',
    ],
    [
      'an unknown notification format',
      { notifications: { webhook: { secretRef: { name: 'hooks', key: 'url' }, format: 'Teams' } } },
      'Unsupported value: "Teams"',
    ],
    [
      'a notification webhook while notifications are off',
      { notifications: { enabled: false, webhook: { secretRef: { name: 'hooks', key: 'url' } } } },
      'notifications.webhook is never used when notifications.enabled is false',
    ],
  ];

  it.each(cases)('rejects %s', async (_what, spec, message) => {
    const body = helloWorld({ image: 'hello-api:1', ...(spec as Json) });
    expect(await rejection(create(body))).toContain(message);
  });

  it.each([
    ['starts with a digit', '1hello'],
    ['is longer than 40 characters', `h${'e'.repeat(40)}`],
  ])('rejects a name that %s', async (_what, name) => {
    expect(await rejection(create(helloWorld({ image: 'hello-api:1' }, name)))).toContain(
      'metadata.name must be a DNS-1035 label of at most 40 characters',
    );
  });
});

describe('admission keeps smoke-check paths inside the pod proxy', () => {
  const withPath = (path: string): Resource =>
    helloWorld({
      image: 'hello-api:1',
      rollout: { verification: { smoke: { checks: [{ name: 'c', method: 'POST', path, body: '{}' }] } } },
    });
  const dryRun = (hw: Resource): Promise<unknown> =>
    custom.createNamespacedCustomObject({ group, version, plural, namespace, dryRun: 'All', body: hw });

  it.each(HOSTILE_PATHS)('rejects %j', async (path, _refused, message) => {
    expect(await rejection(dryRun(withPath(path)))).toContain(message);
  });

  it.each(SAFE_PATHS)('accepts %j', async (path) => {
    await expect(dryRun(withPath(path))).resolves.toMatchObject({
      metadata: { name: expect.any(String) as unknown },
    });
  });
});

describe('admission accepts valid HelloWorlds', () => {
  it('defaults a minimal spec to exactly what the operator resolves', async () => {
    const spec = { image: 'hello-api:1' };
    const stored = await create(helloWorld(spec));
    expect(stored.spec).toEqual({
      image: 'hello-api:1',
      replicas: 2,
      disruptionBudget: { minAvailable: 1 },
      rollout: {
        maxSurge: '25%',
        maxUnavailable: 0,
        progressDeadlineSeconds: 120,
        autoRollback: true,
        crashLoopRestartThreshold: 3,
        historyLimit: 10,
        strategy: 'Rolling',
        verification: {
          enabled: true,
          smoke: { enabled: true, defaultChecks: true },
          analysis: {
            enabled: true,
            windowSeconds: 60,
            intervalSeconds: 10,
            maxErrorRate: 0.05,
            maxP99LatencyMs: 500,
            failureLimit: 2,
            noData: 'Pass',
            probe: { enabled: true, ratePerSecond: 2, minRequests: 20 },
            thresholds: { enabled: true, dryRun: false },
            comparison: {
              enabled: true,
              dryRun: false,
              confidence: 0.99,
              minRequests: 20,
              errorRateMargin: 0.02,
              latencyMarginPercent: 20,
              latencyMarginMs: 10,
            },
          },
        },
      },
      redis: { mode: 'Managed' },
      service: { type: 'ClusterIP', port: 80 },
      monitoring: { slo: { availability: 99.9, latencyP99Ms: 250 } },
    });
    expect(resolveSpec(stored.spec as unknown as HelloWorldSpec)).toEqual(resolveSpec(spec));
  });

  const valid: [string, Json][] = [
    [
      'latency budgets and probes at their bounds',
      {
        image: 'hello-api:1',
        rollout: {
          verification: {
            smoke: {
              maxLatencyMs: 300_000,
              checks: [{ name: 'slow', path: '/readyz', timeoutSeconds: 2, maxLatencyMs: 2000 }],
            },
            analysis: { probe: { enabled: false, ratePerSecond: 10, minRequests: 1000 } },
          },
        },
      },
    ],
    [
      'a comparison alone, as a dry run, with dry-run smoke checks and dry-run thresholds beside it',
      {
        image: 'hello-api:1',
        rollout: {
          verification: {
            smoke: { checks: [{ name: 'new-feature', path: '/hello/x', dryRun: true }] },
            analysis: {
              thresholds: { dryRun: true },
              comparison: {
                dryRun: true,
                confidence: 0.9999,
                minRequests: 5,
                noData: 'Fail',
                errorRateMargin: 0,
                latencyMarginPercent: 0,
                latencyMarginMs: 0,
              },
            },
          },
        },
      },
    ],
    [
      'the comparison alone, thresholds off',
      { image: 'hello-api:1', rollout: { verification: { analysis: { thresholds: { enabled: false } } } } },
    ],
    ['autoscaling', { image: 'hello-api:1', autoscaling: { minReplicas: 2, maxReplicas: 2 } }],
    [
      'a canary with every kind of step',
      {
        image: 'hello-api:1',
        rollout: {
          strategy: 'Canary',
          steps: [
            { canary: { replicas: 1 } },
            { verify: {} },
            { canary: { replicas: '100%' } },
            { pause: { duration: '30s' } },
            { pause: {} },
            { pause: { timeout: '1h', onTimeout: 'Promote' } },
            { verify: {} },
          ],
        },
      },
    ],
    ['historyLimit at its bounds (1)', { image: 'hello-api:1', rollout: { historyLimit: 1 } }],
    [
      'a Slack notification webhook',
      {
        image: 'hello-api:1',
        notifications: { webhook: { secretRef: { name: 'team.hooks', key: 'slack_url' }, format: 'Slack' } },
      },
    ],
    ['notifications switched off', { image: 'hello-api:1', notifications: { enabled: false } }],
    ['historyLimit at its bounds (50)', { image: 'hello-api:1', rollout: { historyLimit: 50 } }],
    [
      'percentages at their bounds',
      { image: 'hello-api:1', rollout: { maxSurge: '100%', maxUnavailable: '100%' } },
    ],
    [
      'no surge when pods may go unavailable',
      { image: 'hello-api:1', rollout: { maxSurge: 0, maxUnavailable: 1 } },
    ],
    ['a PDB of 0%', { image: 'hello-api:1', disruptionBudget: { minAvailable: '0%' } }],
    [
      'an external Redis',
      { image: 'hello-api:1', redis: { mode: 'External', urlSecretRef: { name: 'redis', key: 'url' } } },
    ],
    [
      'an external Redis Cluster over TLS with a CA, a server name and an ACL user (MemoryDB)',
      {
        image: 'hello-api:1',
        redis: {
          mode: 'External',
          urlSecretRef: { name: 'redis', key: 'url' },
          external: {
            topology: 'Cluster',
            tls: {
              enabled: true,
              caFrom: { configMapKeyRef: { name: 'memorydb-ca', key: 'ca.pem' } },
              serverName: 'clustercfg.hello.abc123.memorydb.eu-west-1.amazonaws.com',
            },
            username: 'hello-api',
            passwordSecretRef: { name: 'memorydb-acl', key: 'password' },
          },
        },
      },
    ],
    [
      'smoke checks',
      {
        image: 'hello-api:1',
        rollout: {
          verification: {
            smoke: {
              checks: [
                {
                  name: 'put',
                  method: 'PUT',
                  path: '/hello/bob',
                  body: '{"dateOfBirth":"2001-02-03"}',
                  expectStatus: 204,
                },
                { name: 'get', path: '/hello/bob', jsonField: { name: 'message', equals: 'Hello, bob!' } },
              ],
            },
          },
        },
      },
    ],
    [
      'backups and a restore of a managed Redis',
      {
        image: 'hello-api:1',
        redis: {
          backup: {
            schedule: '*/30 2-4 * * MON-FRI',
            retain: 30,
            storage: { size: '10Gi', storageClassName: 'fast' },
          },
          restoreFrom: { claimName: 'old-redis-backup', file: 'backup-20261203T030000Z.rdb' },
        },
      },
    ],
    [
      'a backup schedule macro',
      { image: 'hello-api:1', redis: { backup: { schedule: '@hourly', suspend: true } } },
    ],
    [
      'env, resources and pod metadata',
      {
        image:
          'registry.example.com/team/hello-api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        env: [
          { name: 'LOG_LEVEL', value: 'debug' },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: 1, memory: '1Gi' } },
        podAnnotations: { 'example.com/owner': 'birthdays team' },
        podLabels: { 'app.kubernetes.io/version': '1.0.0', team: 'birthdays' },
      },
    ],
  ];

  it('defaults a notification webhook to the Json format', async () => {
    const webhook = { secretRef: { name: 'hooks', key: 'url' } };
    const stored = await create(helloWorld({ image: 'hello-api:1', notifications: { webhook } }));
    expect(stored.spec.notifications).toEqual({ webhook: { ...webhook, format: 'Json' } });
  });

  it('defaults backups to 7 kept on a 2Gi claim, not suspended', async () => {
    const stored = await create(
      helloWorld({ image: 'hello-api:1', redis: { backup: { schedule: '0 3 * * *' } } }),
    );
    expect((stored.spec.redis as Json).backup).toEqual({
      schedule: '0 3 * * *',
      retain: 7,
      storage: { size: '2Gi' },
      suspend: false,
    });
  });

  it.each(valid)('accepts %s and keeps the spec as given', async (_what, spec) => {
    const stored = await create(helloWorld(spec));
    expect(stored.spec).toMatchObject(spec);
  });

  it.each(['hello_v1alpha1_helloworld.yaml', 'helloworld-simulated.yaml'])(
    'accepts the sample config/samples/%s',
    async (file) => {
      const sample = parse(readFileSync(`${repoRoot}config/samples/${file}`, 'utf8')) as Resource;
      sample.metadata.namespace = namespace;
      sample.metadata.name = uniqueName();
      const stored = await create(sample);
      expect(stored.spec).toMatchObject(sample.spec);
    },
  );
});

describe('redis.mode is immutable', () => {
  const immutable = 'redis.mode cannot be changed after creation';
  const external = { mode: 'External', urlSecretRef: { name: 'redis', key: 'url' } };

  it('rejects switching a HelloWorld without a redis block (Managed) to External', async () => {
    const { metadata } = await create(helloWorld({ image: 'hello-api:1' }));
    expect(await rejection(patchSpec(metadata.name, { redis: external }))).toContain(immutable);
  });

  it('rejects switching External to Managed, and says why', async () => {
    const { metadata } = await create(helloWorld({ image: 'hello-api:1', redis: external }));
    const message = await rejection(
      patchSpec(metadata.name, { redis: { mode: 'Managed', urlSecretRef: null } }),
    );
    expect(message).toContain(`${immutable}: switching between a managed and an external Redis`);
  });

  it('accepts other changes, and spelling out the default mode', async () => {
    const { metadata } = await create(helloWorld({ image: 'hello-api:1' }));
    const updated = await patchSpec(metadata.name, {
      image: 'hello-api:2',
      redis: { mode: 'Managed', storage: { whenDeleted: 'Delete' } },
    });
    expect(updated.spec).toMatchObject({
      image: 'hello-api:2',
      redis: { mode: 'Managed', storage: { size: '1Gi', whenDeleted: 'Delete' } },
    });
  });

  it('reports only the mode when a Managed Redis with storage settings switches to External', async () => {
    const { metadata } = await create(
      helloWorld({ image: 'hello-api:1', redis: { storage: { size: '2Gi', storageClassName: 'fast' } } }),
    );
    const message = await rejection(
      patchSpec(metadata.name, {
        redis: { mode: 'External', urlSecretRef: { name: 'redis', key: 'url' }, storage: null },
      }),
    );
    expect(message).toContain(immutable);
    expect(message).not.toContain('redis.storage');
  });
});

describe('the managed Redis volume is immutable', () => {
  // The StatefulSet's volumeClaimTemplates cannot change, so neither can what they are built from.
  const size = 'spec.redis.storage.size: Invalid value';
  const sizeMessage = 'redis.storage.size cannot be changed after creation';
  const className = 'spec.redis.storage.storageClassName: Invalid value';
  const classMessage = 'redis.storage.storageClassName cannot be set, changed or removed after creation';

  const rejected: [string, Json | undefined, Json, string, string][] = [
    ['a size', { storage: { size: '1Gi' } }, { storage: { size: '2Gi' } }, size, sizeMessage],
    ['a defaulted size (no storage block)', undefined, { storage: { size: '2Gi' } }, size, sizeMessage],
    [
      'a size back to the default by removing storage',
      { storage: { size: '2Gi' } },
      { storage: null },
      size,
      sizeMessage,
    ],
    [
      'a size to a smaller one',
      { storage: { size: '2Gi' } },
      { storage: { size: '1Gi' } },
      size,
      sizeMessage,
    ],
    ['no class to a class', undefined, { storage: { storageClassName: 'fast' } }, className, classMessage],
    [
      'no class to the empty class',
      { storage: {} },
      { storage: { storageClassName: '' } },
      className,
      classMessage,
    ],
    [
      'a class to another',
      { storage: { storageClassName: 'fast' } },
      { storage: { storageClassName: 'slow' } },
      className,
      classMessage,
    ],
    [
      'a class to none',
      { storage: { storageClassName: 'fast' } },
      { storage: { storageClassName: null } },
      className,
      classMessage,
    ],
  ];

  it.each(rejected)(
    'rejects changing %s, says where and what to do',
    async (_what, redis, patch, path, message) => {
      const { metadata } = await create(helloWorld({ image: 'hello-api:1', ...(redis && { redis }) }));
      const rejectedWith = await rejection(patchSpec(metadata.name, { redis: patch }));
      expect(rejectedWith).toContain(path);
      expect(rejectedWith).toContain(message);
      expect(rejectedWith).toMatch(/ To (grow the volume|use another class), /);
    },
  );

  const accepted: [string, Json | undefined, Json, Json][] = [
    ['spelling out the default size', undefined, { storage: { size: '1Gi' } }, { size: '1Gi' }],
    ['an empty storage block, defaulted to the same size', undefined, { storage: {} }, { size: '1Gi' }],
    [
      'the same size in other units',
      { storage: { size: '1Gi' } },
      { storage: { size: '1024Mi' } },
      { size: '1024Mi' },
    ],
    [
      'whenDeleted, which the StatefulSet may change',
      { storage: { size: '2Gi', storageClassName: 'fast' } },
      { storage: { whenDeleted: 'Delete' } },
      { size: '2Gi', storageClassName: 'fast', whenDeleted: 'Delete' },
    ],
  ];

  it.each(accepted)('accepts %s', async (_what, redis, patch, storage) => {
    const { metadata } = await create(helloWorld({ image: 'hello-api:1', ...(redis && { redis }) }));
    const updated = await patchSpec(metadata.name, { image: 'hello-api:2', redis: patch });
    expect(updated.spec).toMatchObject({ image: 'hello-api:2', redis: { mode: 'Managed', storage } });
  });

  it('accepts any update of an External Redis, which has no volume', async () => {
    const external = { mode: 'External', urlSecretRef: { name: 'redis', key: 'url' } };
    const { metadata } = await create(helloWorld({ image: 'hello-api:1', redis: external }));
    const updated = await patchSpec(metadata.name, {
      redis: { urlSecretRef: { name: 'other', key: 'url' } },
    });
    expect(updated.spec).toMatchObject({ redis: { mode: 'External', urlSecretRef: { name: 'other' } } });
  });
});

describe('the scale subresource', () => {
  it('scales spec.replicas, with kubectl scale too, and reports the status selector', async () => {
    const { metadata } = await create(helloWorld({ image: 'hello-api:1' }));
    const name = metadata.name;
    await custom.patchNamespacedCustomObjectScale(
      { group, version, plural, namespace, name, body: { spec: { replicas: 4 } } },
      mergePatch,
    );
    expect((await read(name)).spec.replicas).toBe(4);

    const scaled = kubectl('scale', '-n', namespace, `hw/${name}`, '--replicas=3');
    expect(scaled.stderr).toBe('');
    expect((await read(name)).spec.replicas).toBe(3);

    const status = { replicas: 3, selector: `app.kubernetes.io/instance=${name}` };
    await custom.patchNamespacedCustomObjectStatus(
      { group, version, plural, namespace, name, body: { status } },
      mergePatch,
    );
    const scale = (await custom.getNamespacedCustomObjectScale({
      group,
      version,
      plural,
      namespace,
      name,
    })) as {
      status: { replicas: number; selector: string };
    };
    expect(scale.status).toEqual(status);
  });

  it('validates the replicas it writes', async () => {
    const { metadata } = await create(helloWorld({ image: 'hello-api:1' }));
    const body = { spec: { replicas: 5000 } };
    const request = custom.patchNamespacedCustomObjectScale(
      { group, version, plural, namespace, name: metadata.name, body },
      mergePatch,
    );
    expect(await rejection(request)).toContain('should be less than or equal to 1000');
  });
});

describe('kubectl', () => {
  it('explains every field of helloworld.spec', () => {
    const explained = kubectl('explain', 'helloworld.spec');
    expect(explained.status).toBe(0);
    const fields = [
      'image',
      'replicas',
      'autoscaling',
      'disruptionBudget',
      'rollout',
      'redis',
      'resources',
      'env',
      'service',
      'podAnnotations',
      'podLabels',
      'monitoring',
      'notifications',
    ];
    for (const field of fields) expect(explained.stdout).toMatch(new RegExp(`^\\s+${field}\\s`, 'm'));
    expect(kubectl('explain', 'hw.spec.rollout.verification.analysis.maxErrorRate').stdout).toContain(
      'share of 5xx answers',
    );
  });

  it('lists HelloWorlds with the Image, Running, Desired, Ready, Phase, Reason and Age columns', async () => {
    await create(helloWorld({ image: 'hello-api:7' }, 'columns'));
    const listed = kubectl('get', 'hw', '-n', namespace, 'columns');
    expect(listed.stdout.split('\n')[0]).toMatch(
      /^NAME\s+IMAGE\s+RUNNING\s+DESIRED\s+READY\s+PHASE\s+REASON\s+AGE$/,
    );
    // Nothing runs yet: RUNNING is empty, so DESIRED follows IMAGE.
    expect(listed.stdout).toMatch(/^columns\s+hello-api:7\s+2\s+/m);
    const wide = kubectl('get', 'hw', '-n', namespace, 'columns', '-o', 'wide');
    expect(wide.stdout.split('\n')[0]).toMatch(
      /\sREASON\s+PROGRESS\s+REVISION\s+STABLE\s+REPLICAS\s+UPDATED\s+CANARY\s+REDIS\s+BACKUP\s+AGE$/,
    );
  });
});

describe('config/default', () => {
  it('renders with kustomize, and the API server accepts every object (server-side dry run)', () => {
    const rendered = kubectl('kustomize', 'config/default');
    expect(rendered.stderr).toBe('');
    const docs = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as KubernetesObject);
    const kinds = docs.map((d) => `${d.kind ?? ''}/${d.metadata?.name ?? ''}`).sort();
    expect(kinds).toEqual([
      'ClusterRole/helloworld-operator',
      'ClusterRoleBinding/helloworld-operator',
      'CustomResourceDefinition/helloworlds.hello.dev',
      'Deployment/helloworld-operator',
      'Namespace/helloworld-system',
      'PodDisruptionBudget/helloworld-operator',
      'Role/helloworld-operator-leader-election',
      'RoleBinding/helloworld-operator-leader-election',
      'ServiceAccount/helloworld-operator',
    ]);
    // The operator's namespace may not exist here: validate namespaced objects in the test's one.
    for (const doc of docs) if (doc.metadata?.namespace) doc.metadata.namespace = namespace;
    const input = docs.map((d) => stringify(d)).join('---\n');
    const dryRun = kubectlWithInput(
      input,
      'apply',
      '--server-side',
      '--force-conflicts',
      '--dry-run=server',
      '-f',
      '-',
    );
    expect(dryRun.stderr).toBe('');
    expect(dryRun.stdout.trim().split('\n')).toHaveLength(docs.length);
  });
});
