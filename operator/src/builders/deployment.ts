import type { V1Container, V1Deployment, V1EnvVar, V1PodTemplateSpec } from '@kubernetes/client-node';
import { API_PORT, type ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import { labels, selectorLabels } from '../crd/labels.js';
import type { HelloWorld } from '../crd/types.js';
import { REVISION_ANNOTATION, revisionOf } from '../rollout/revision.js';
import type { TemplateRevision } from '../rollout/template.js';
import { externalRedisCa, externalRedisEnv } from './external-redis.js';
import { RESTRICTED_CONTAINER, childMeta, redisName, redisSecretName } from './meta.js';
import { podServiceAccountName, serviceAccountPodAnnotations } from './service-account.js';

/** Pod annotation whose change rolls the pods when a Secret they read changes. */
export const CONFIG_CHECKSUM_ANNOTATION = 'hello.dev/config-checksum';

/**
 * Endpoints are removed asynchronously after a pod starts terminating; the preStop sleep keeps the pod
 * serving until kube-proxies and load balancers have caught up, then the API's own drain (readiness
 * 503, keep serving SHUTDOWN_DRAIN_MS) covers the rest. Grace = both plus time to finish requests.
 */
const PRE_STOP_SLEEP_SECONDS = 5;
const DRAIN_MS = 2000;
const TERMINATION_GRACE_SECONDS = 30;

export const NON_ROOT_UID = 65532;

const redisCa = (spec: ResolvedSpec) =>
  externalRedisCa(spec.redis.mode === 'External' ? spec.redis.external : undefined);

function redisEnv(hw: HelloWorld, spec: ResolvedSpec): V1EnvVar[] {
  if (spec.redis.mode === 'External') {
    const ref = spec.redis.urlSecretRef;
    return [
      { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } },
      ...externalRedisEnv(spec.redis.external),
    ];
  }
  const secret = redisSecretName(hw);
  return [
    { name: 'REDIS_URL', value: `redis://${redisName(hw)}:6379/0` },
    { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } },
  ];
}

/**
 * The operator's variables, then the user's; a user variable replaces the operator's of the same name.
 * Server-side apply treats `env` as a map keyed by name and rejects a list with a name twice, so the
 * override is resolved here rather than left to "the later entry wins".
 */
function withUserEnv(operatorEnv: V1EnvVar[], userEnv: V1EnvVar[]): V1EnvVar[] {
  const overridden = new Set(userEnv.map((e) => e.name));
  return [...operatorEnv.filter((e) => !overridden.has(e.name)), ...userEnv];
}

function apiContainer(hw: HelloWorld, spec: ResolvedSpec): V1Container {
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  return {
    name: 'api',
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: API_PORT, protocol: 'TCP' }],
    env: withUserEnv(
      [
        { name: 'PORT', value: String(API_PORT) },
        { name: 'SHUTDOWN_DRAIN_MS', value: String(DRAIN_MS) },
        {
          name: 'SHUTDOWN_TIMEOUT_MS',
          value: String((TERMINATION_GRACE_SECONDS - PRE_STOP_SLEEP_SECONDS - 2) * 1000),
        },
        ...redisEnv(hw, spec),
      ],
      spec.env,
    ),
    resources: spec.resources,
    readinessProbe: probe('/readyz', 2, 2),
    livenessProbe: { ...probe('/healthz', 10, 3), initialDelaySeconds: 5 },
    startupProbe: probe('/healthz', 1, 30),
    lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
    securityContext: RESTRICTED_CONTAINER,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...redisCa(spec).mounts],
  };
}

/** The pod template of the spec and its revision, which is stamped on it as an annotation. */
export function buildPodTemplate(
  hw: HelloWorld,
  spec: ResolvedSpec,
  configChecksum: string,
): TemplateRevision {
  const selector = selectorLabels(hw, 'api');
  const serviceAccountName = podServiceAccountName(hw, spec);
  const template: V1PodTemplateSpec = {
    metadata: {
      // Our labels win over podLabels so the selector can never be broken by a user label.
      labels: { ...spec.podLabels, ...labels(hw, 'api') },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(API_PORT),
        'prometheus.io/path': '/metrics',
        ...spec.podAnnotations,
        ...serviceAccountPodAnnotations(spec),
        [CONFIG_CHECKSUM_ANNOTATION]: configChecksum,
      },
    },
    spec: {
      // Absent unless spec.serviceAccount is set: a template of an existing HelloWorld keeps its revision.
      ...(serviceAccountName !== undefined && { serviceAccountName }),
      automountServiceAccountToken: spec.serviceAccount?.automountToken ?? false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: NON_ROOT_UID,
        runAsGroup: NON_ROOT_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [apiContainer(hw, spec)],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }, ...redisCa(spec).volumes],
      topologySpreadConstraints: ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((key) => ({
        maxSkew: 1,
        topologyKey: key,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selector },
        matchLabelKeys: ['pod-template-hash'],
      })),
    },
  };
  const revision = revisionOf(template);
  const annotations = { ...template.metadata?.annotations, [REVISION_ANNOTATION]: revision };
  return { revision, template: { ...template, metadata: { ...template.metadata, annotations } } };
}

/**
 * The API Deployment. `template` is normally the spec's; during a rollback it is the stable revision's.
 * With autoscaling on, `replicas` is left out so the HPA alone owns it (server-side apply then never
 * fights over the field).
 */
export function buildDeployment(
  hw: HelloWorld,
  spec: ResolvedSpec,
  template: V1PodTemplateSpec,
  paused = false,
): V1Deployment {
  return {
    ...typeMeta(KINDS.Deployment),
    metadata: childMeta(hw, hw.metadata.name, 'api'),
    spec: {
      ...(spec.autoscaling ? {} : { replicas: spec.replicas }),
      // Only while hello.dev/pause holds a rollout: absent otherwise, so existing Deployments are unchanged.
      ...(paused && { paused: true }),
      selector: { matchLabels: selectorLabels(hw, 'api') },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: spec.rollout.maxSurge, maxUnavailable: spec.rollout.maxUnavailable },
      },
      progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
      revisionHistoryLimit: 10,
      template,
    },
  };
}
