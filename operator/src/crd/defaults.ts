/**
 * Defaulting: a user's HelloWorld spec in, a fully resolved spec out. Builders and the rollout logic read
 * only the resolved spec, so every default lives here, once.
 */
import type { V1EnvVar, V1ResourceRequirements } from '@kubernetes/client-node';
import type {
  AnalysisSpec,
  CanaryStep,
  ClaimRetention,
  ExternalRedisSpec,
  HelloWorldSpec,
  IntOrString,
  KeyRef,
  NoDataPolicy,
  NotificationFormat,
  RedisBackupSpec,
  RedisMode,
  RedisRestoreSpec,
  RolloutStrategy,
  ServiceAccountSpec,
  ServiceType,
  SmokeCheck,
} from './types.js';

/**
 * Pinned by digest (the multi-arch index of Docker Hub's redis:7.4.11-alpine): the managed Redis never
 * changes under a HelloWorld unless the operator is upgraded. To move it, replace the tag and the digest.
 */
export const DEFAULT_REDIS_IMAGE =
  'redis:7.4.11-alpine@sha256:ff02b58f971e7d7d156a1267e283fcbbeee91773b6aa36c49dac28ecfe28eadf';
export const API_PORT = 8080;
/** monitoring.slo.latencyP99Ms when unset. */
export const DEFAULT_LATENCY_P99_MS = 250;
/**
 * Added to the p99 SLO to make the default smoke latency budget: a smoke check is timed as the operator
 * sees it, through the API server's pod proxy, a hop the SLO (measured inside the pod) does not include.
 * See docs/verification.md, "Latency budget".
 */
export const PROXY_ALLOWANCE_MS = 200;

export interface ResolvedSmokeCheck extends Required<
  Omit<SmokeCheck, 'body' | 'contains' | 'jsonField' | 'dryRun'>
> {
  /** Present (true) only on dry-run checks, so the default checks resolve as before. */
  dryRun?: true;
  body?: string;
  contains?: string;
  jsonField?: { name: string; equals: string };
}

export interface ResolvedMonitoring {
  /** Undefined: decided at run time by whether the Prometheus Operator's CRDs exist. */
  enabled?: boolean;
  slo: { availability: number; latencyP99Ms: number };
  labels: Record<string, string>;
}

/** The ServiceAccount of the API pods; undefined: the namespace's default, and no ServiceAccount child. */
export type ResolvedServiceAccount =
  | { create: false; name: string; automountToken: boolean }
  | { create: true; annotations: Record<string, string>; automountToken: boolean };

export interface ResolvedSpec {
  image: string;
  replicas: number;
  autoscaling?: { minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage: number };
  disruptionBudget: { minAvailable: IntOrString } | { maxUnavailable: IntOrString };
  rollout: {
    maxSurge: IntOrString;
    maxUnavailable: IntOrString;
    progressDeadlineSeconds: number;
    autoRollback: boolean;
    crashLoopRestartThreshold: number;
    historyLimit: number;
    strategy: RolloutStrategy;
    /** Empty with the Rolling strategy. */
    steps: ResolvedStep[];
    verification: {
      enabled: boolean;
      smoke: { enabled: boolean; maxLatencyMs: number; checks: ResolvedSmokeCheck[] };
      analysis: {
        enabled: boolean;
        windowSeconds: number;
        intervalSeconds: number;
        maxErrorRate: number;
        maxP99LatencyMs: number;
        failureLimit: number;
        noData: NoDataPolicy;
        probe: { enabled: boolean; ratePerSecond: number; minRequests: number };
        thresholds: { enabled: boolean; dryRun: boolean };
        comparison: {
          enabled: boolean;
          dryRun: boolean;
          confidence: number;
          minRequests: number;
          noData: NoDataPolicy;
          errorRateMargin: number;
          latencyMarginPercent: number;
          latencyMarginMs: number;
        };
      };
    };
  };
  redis:
    | {
        mode: Extract<RedisMode, 'Managed'>;
        image: string;
        storage: { size: string; storageClassName?: string; whenDeleted: ClaimRetention };
        resources: V1ResourceRequirements;
        backup?: ResolvedBackup;
        restoreFrom?: RedisRestoreSpec;
      }
    | {
        mode: Extract<RedisMode, 'External'>;
        urlSecretRef: { name: string; key: string };
        /** As given: each field absent keeps the API's default (see docs/crd.md). */
        external?: ExternalRedisSpec;
      };
  resources: V1ResourceRequirements;
  env: V1EnvVar[];
  service: { type: ServiceType; port: number };
  podAnnotations: Record<string, string>;
  podLabels: Record<string, string>;
  serviceAccount?: ResolvedServiceAccount;
  monitoring: ResolvedMonitoring;
  /** webhook absent: the operator's default webhook, if it has one. */
  notifications: { enabled: boolean; webhook?: { secretRef: KeyRef; format: NotificationFormat } };
}

const DEFAULT_API_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { memory: '256Mi' },
};

const DEFAULT_REDIS_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { memory: '512Mi' },
};

/**
 * The smoke checks every rollout of this API gets unless `defaultChecks: false`, each with the latency
 * budget `maxLatencyMs` (the default: that of a HelloWorld with the default SLO).
 */
export function defaultSmokeChecks(
  maxLatencyMs = DEFAULT_LATENCY_P99_MS + PROXY_ALLOWANCE_MS,
): ResolvedSmokeCheck[] {
  const check = (c: SmokeCheck): ResolvedSmokeCheck => resolveSmokeCheck(c, maxLatencyMs);
  return [
    check({ name: 'readiness', path: '/readyz', expectStatus: 200 }),
    check({
      name: 'store-date-of-birth',
      method: 'PUT',
      path: '/hello/smokecheck',
      body: '{"dateOfBirth":"2000-01-01"}',
      expectStatus: 204,
    }),
    check({
      name: 'read-date-of-birth',
      path: '/hello/smokecheck',
      expectStatus: 200,
      contains: 'Hello, smokecheck!',
    }),
  ];
}

function resolveSmokeCheck(c: SmokeCheck, maxLatencyMs: number): ResolvedSmokeCheck {
  return {
    name: c.name,
    method: c.method ?? 'GET',
    path: c.path,
    expectStatus: c.expectStatus ?? 200,
    timeoutSeconds: c.timeoutSeconds ?? 5,
    retries: c.retries ?? 2,
    maxLatencyMs: c.maxLatencyMs ?? maxLatencyMs,
    ...(c.body !== undefined && { body: c.body }),
    ...(c.contains !== undefined && { contains: c.contains }),
    ...(c.jsonField !== undefined && { jsonField: c.jsonField }),
    ...(c.dryRun === true && { dryRun: true }),
  };
}

/** A canary step as the rollout machine reads it; durations in seconds. */
export type ResolvedStep =
  | { kind: 'canary'; replicas: IntOrString }
  | { kind: 'verify' }
  | { kind: 'pause'; durationSeconds?: number; timeoutSeconds?: number; onTimeout: 'Rollback' | 'Promote' };

/** Seconds of a duration such as 90s, 2m or 1h (the schema admits only those shapes). */
export function durationSeconds(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,4})(s|m|h)$/.exec(text);
  if (!match) return undefined;
  const unit = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return Number(match[1]) * unit;
}

function resolveStep(step: CanaryStep): ResolvedStep[] {
  if (step.canary) return [{ kind: 'canary', replicas: step.canary.replicas }];
  if (step.verify) return [{ kind: 'verify' }];
  if (step.pause) {
    const duration = step.pause.duration && durationSeconds(step.pause.duration);
    const timeout = step.pause.timeout && durationSeconds(step.pause.timeout);
    return [
      {
        kind: 'pause',
        ...(duration && { durationSeconds: duration }),
        ...(timeout && { timeoutSeconds: timeout }),
        onTimeout: step.pause.onTimeout ?? 'Rollback',
      },
    ];
  }
  return []; // the schema admits no empty step
}

export function resolveSpec(spec: HelloWorldSpec): ResolvedSpec {
  const rollout = spec.rollout ?? {};
  const verification = rollout.verification ?? {};
  const smoke = verification.smoke ?? {};
  const analysis = verification.analysis ?? {};
  const redis = spec.redis ?? {};
  const pdb = spec.disruptionBudget ?? {};
  const verificationEnabled = verification.enabled ?? true;
  const latencyP99Ms = spec.monitoring?.slo?.latencyP99Ms ?? DEFAULT_LATENCY_P99_MS;
  const smokeLatencyMs = smoke.maxLatencyMs ?? latencyP99Ms + PROXY_ALLOWANCE_MS;

  return {
    image: spec.image,
    replicas: spec.replicas ?? 2,
    ...(spec.autoscaling && {
      autoscaling: {
        minReplicas: spec.autoscaling.minReplicas ?? 1,
        maxReplicas: spec.autoscaling.maxReplicas,
        targetCPUUtilizationPercentage: spec.autoscaling.targetCPUUtilizationPercentage ?? 70,
      },
    }),
    disruptionBudget:
      pdb.maxUnavailable !== undefined
        ? { maxUnavailable: pdb.maxUnavailable }
        : { minAvailable: pdb.minAvailable ?? 1 },
    rollout: {
      maxSurge: rollout.maxSurge ?? '25%',
      maxUnavailable: rollout.maxUnavailable ?? 0,
      progressDeadlineSeconds: rollout.progressDeadlineSeconds ?? 120,
      autoRollback: rollout.autoRollback ?? true,
      crashLoopRestartThreshold: rollout.crashLoopRestartThreshold ?? 3,
      historyLimit: rollout.historyLimit ?? 10,
      strategy: rollout.strategy ?? 'Rolling',
      steps: rollout.strategy === 'Canary' ? (rollout.steps ?? []).flatMap(resolveStep) : [],
      verification: {
        enabled: verificationEnabled,
        smoke: {
          enabled: verificationEnabled && (smoke.enabled ?? true),
          maxLatencyMs: smokeLatencyMs,
          checks: [
            ...(smoke.defaultChecks === false ? [] : defaultSmokeChecks(smokeLatencyMs)),
            ...(smoke.checks ?? []).map((check) => resolveSmokeCheck(check, smokeLatencyMs)),
          ],
        },
        analysis: {
          enabled: verificationEnabled && (analysis.enabled ?? true),
          windowSeconds: analysis.windowSeconds ?? 60,
          intervalSeconds: analysis.intervalSeconds ?? 10,
          maxErrorRate: analysis.maxErrorRate ?? 0.05,
          maxP99LatencyMs: analysis.maxP99LatencyMs ?? 500,
          failureLimit: analysis.failureLimit ?? 2,
          noData: analysis.noData ?? 'Pass',
          probe: {
            enabled: analysis.probe?.enabled ?? true,
            ratePerSecond: analysis.probe?.ratePerSecond ?? 2,
            minRequests: analysis.probe?.minRequests ?? 20,
          },
          thresholds: {
            enabled: analysis.thresholds?.enabled ?? true,
            dryRun: analysis.thresholds?.dryRun ?? false,
          },
          comparison: resolveComparison(analysis),
        },
      },
    },
    redis:
      redis.mode === 'External' && redis.urlSecretRef
        ? {
            mode: 'External',
            urlSecretRef: redis.urlSecretRef,
            ...(redis.external !== undefined && { external: redis.external }),
          }
        : {
            mode: 'Managed',
            image: redis.image ?? DEFAULT_REDIS_IMAGE,
            storage: {
              size: redis.storage?.size ?? '1Gi',
              whenDeleted: redis.storage?.whenDeleted ?? 'Retain',
              ...(redis.storage?.storageClassName !== undefined && {
                storageClassName: redis.storage.storageClassName,
              }),
            },
            resources: redis.resources ?? DEFAULT_REDIS_RESOURCES,
            ...(redis.backup !== undefined && { backup: resolveBackup(redis.backup) }),
            ...(redis.restoreFrom !== undefined && { restoreFrom: redis.restoreFrom }),
          },
    resources: spec.resources ?? DEFAULT_API_RESOURCES,
    env: spec.env ?? [],
    service: { type: spec.service?.type ?? 'ClusterIP', port: spec.service?.port ?? 80 },
    podAnnotations: spec.podAnnotations ?? {},
    podLabels: spec.podLabels ?? {},
    ...(spec.serviceAccount && resolveServiceAccount(spec.serviceAccount)),
    monitoring: {
      ...(spec.monitoring?.enabled !== undefined && { enabled: spec.monitoring.enabled }),
      slo: {
        availability: spec.monitoring?.slo?.availability ?? 99.9,
        latencyP99Ms,
      },
      labels: spec.monitoring?.labels ?? {},
    },
    notifications: {
      enabled: spec.notifications?.enabled ?? true,
      ...(spec.notifications?.webhook && {
        webhook: {
          secretRef: spec.notifications.webhook.secretRef,
          format: spec.notifications.webhook.format ?? 'Json',
        },
      }),
    },
  };
}

/** Defaults of the canary comparison, argued in docs/verification.md ("Compared with the stable pods"). */
function resolveComparison(
  analysis: AnalysisSpec,
): ResolvedSpec['rollout']['verification']['analysis']['comparison'] {
  const c = analysis.comparison ?? {};
  return {
    enabled: c.enabled ?? true,
    dryRun: c.dryRun ?? false,
    confidence: c.confidence ?? 0.99,
    minRequests: c.minRequests ?? 20,
    noData: c.noData ?? analysis.noData ?? 'Pass',
    errorRateMargin: c.errorRateMargin ?? 0.02,
    latencyMarginPercent: c.latencyMarginPercent ?? 20,
    latencyMarginMs: c.latencyMarginMs ?? 10,
  };
}

/**
 * Admission requires `name` or `create: true` (never both); a block with neither is left unresolved, so
 * the pods keep the namespace's default ServiceAccount rather than guess.
 */
export interface ResolvedBackup {
  schedule: string;
  retain: number;
  storage: { size: string; storageClassName?: string };
  suspend: boolean;
}

function resolveBackup(backup: RedisBackupSpec): ResolvedBackup {
  return {
    schedule: backup.schedule,
    retain: backup.retain ?? 7,
    storage: {
      size: backup.storage?.size ?? '2Gi',
      ...(backup.storage?.storageClassName !== undefined && {
        storageClassName: backup.storage.storageClassName,
      }),
    },
    suspend: backup.suspend ?? false,
  };
}

function resolveServiceAccount(sa: ServiceAccountSpec): { serviceAccount?: ResolvedServiceAccount } {
  const automountToken = sa.automountToken ?? false;
  if (sa.create === true)
    return { serviceAccount: { create: true, annotations: sa.annotations ?? {}, automountToken } };
  if (sa.name !== undefined) return { serviceAccount: { create: false, name: sa.name, automountToken } };
  return {};
}
