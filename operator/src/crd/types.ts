/**
 * The HelloWorld API (hello.dev/v1alpha1) as TypeScript types. The CRD in crds/ is the schema the API
 * server enforces; these types mirror it, and defaults.ts turns a user's spec into a fully resolved one.
 */
import type { V1EnvVar, V1ObjectMeta, V1ResourceRequirements } from '@kubernetes/client-node';

export const GROUP = 'hello.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'HelloWorld';
export const PLURAL = 'helloworlds';

export type IntOrString = number | string;

export interface AutoscalingSpec {
  minReplicas?: number;
  maxReplicas: number;
  targetCPUUtilizationPercentage?: number;
}

export interface DisruptionBudgetSpec {
  minAvailable?: IntOrString;
  maxUnavailable?: IntOrString;
}

/** One HTTP check of a smoke test, run against every pod of the new revision. */
export interface SmokeCheck {
  name: string;
  method?: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  path: string;
  body?: string;
  expectStatus?: number;
  /** A substring the response body must contain. */
  contains?: string;
  /** A top-level JSON field of the response body that must equal a value. */
  jsonField?: { name: string; equals: string };
  timeoutSeconds?: number;
  retries?: number;
  /** Slowest answer that passes, in ms as the operator sees it; default: the smoke block's maxLatencyMs. */
  maxLatencyMs?: number;
  /** Run and report the check ("would have failed"), but never fail the rollout on it. */
  dryRun?: boolean;
}

export type NoDataPolicy = 'Pass' | 'Fail';

export interface AnalysisSpec {
  enabled?: boolean;
  windowSeconds?: number;
  intervalSeconds?: number;
  /** Highest tolerated share of 5xx answers on /hello, 0 to 1. */
  maxErrorRate?: number;
  maxP99LatencyMs?: number;
  /** How many consecutive failed measurements fail the analysis. */
  failureLimit?: number;
  /** What a measurement with no /hello traffic counts as. */
  noData?: NoDataPolicy;
  /** Probe traffic the operator sends when organic /hello traffic is too low to judge. */
  probe?: ProbeSpec;
  /** The fixed thresholds maxErrorRate and maxP99LatencyMs: on, off, or measured only (dryRun). */
  thresholds?: ThresholdsSpec;
  /** The canary judged against the stable pods (canary strategy only). */
  comparison?: ComparisonSpec;
}

export interface ThresholdsSpec {
  enabled?: boolean;
  dryRun?: boolean;
}

/** How the canary's /hello traffic is compared with the stable pods' over the same interval. */
export interface ComparisonSpec {
  enabled?: boolean;
  /** Measured and reported ("would have failed"), never failing the rollout. */
  dryRun?: boolean;
  /** 1 minus the chance that an identical canary fails one measurement (both tests together). */
  confidence?: number;
  /** /hello requests each side needs in an interval to be compared; fewer is NoData. */
  minRequests?: number;
  /** What an interval with too little traffic to compare counts as; default: analysis.noData. */
  noData?: NoDataPolicy;
  /** How much higher (absolute, 0 to 1) the canary's 5xx share may be before a significant rise fails. */
  errorRateMargin?: number;
  /** How much slower (in percent) the canary's p99 or median may be before a significant rise fails. */
  latencyMarginPercent?: number;
  /** ... and at least this many ms slower. */
  latencyMarginMs?: number;
}

export interface ProbeSpec {
  enabled?: boolean;
  /** Probe requests per second to the pods under judgement, spread over them. */
  ratePerSecond?: number;
  /** Organic /hello requests per interval below which the next interval is probed. */
  minRequests?: number;
}

export interface SmokeSpec {
  enabled?: boolean;
  defaultChecks?: boolean;
  /** Latency budget of every check, in ms; default: monitoring.slo.latencyP99Ms plus a proxy allowance. */
  maxLatencyMs?: number;
  checks?: SmokeCheck[];
}

export interface VerificationSpec {
  enabled?: boolean;
  smoke?: SmokeSpec;
  analysis?: AnalysisSpec;
}

export interface RolloutSpec {
  maxSurge?: IntOrString;
  maxUnavailable?: IntOrString;
  progressDeadlineSeconds?: number;
  autoRollback?: boolean;
  /** Restarts of a new pod's container after which the rollout fails as CrashLooping. */
  crashLoopRestartThreshold?: number;
  /** How many rollout outcomes status.history keeps (1 to 50). */
  historyLimit?: number;
  /** Rolling (default): a rolling update verified once complete. Canary: `steps` next to the stable pods. */
  strategy?: RolloutStrategy;
  /** The canary's steps, in order; only with strategy Canary, and then required. */
  steps?: CanaryStep[];
  verification?: VerificationSpec;
}

export type RolloutStrategy = 'Rolling' | 'Canary';

/** One step of a canary rollout: exactly one of its members is set. */
export interface CanaryStep {
  /** Run this many canary pods (an integer, or a percentage of the stable Deployment's replicas). */
  canary?: { replicas: IntOrString };
  /** Smoke checks and analysis of the canary pods, compared with the stable pods. */
  verify?: Record<string, never>;
  /** Wait: `duration`, or without it until hello.dev/promote; `timeout` then does `onTimeout`. */
  pause?: { duration?: string; timeout?: string; onTimeout?: 'Rollback' | 'Promote' };
}

export type RedisMode = 'Managed' | 'External';
export type ClaimRetention = 'Retain' | 'Delete';

export type RedisTopology = 'Standalone' | 'Cluster';

/** A key of a Secret or ConfigMap in the HelloWorld's namespace. */
export interface KeyRef {
  name: string;
  key: string;
}

/** How the API reaches an External Redis beyond its URL: MemoryDB and ElastiCache need all of it. */
export interface ExternalRedisSpec {
  /** Cluster: the URL is the cluster's configuration endpoint; the API uses a cluster client. */
  topology?: RedisTopology;
  tls?: {
    enabled: boolean;
    /** The CA that signs the server's certificate (PEM); Node's built-in CAs when unset. */
    caFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef };
    /** The name the server's certificate is checked against (and sent as SNI); the URL's host when unset. */
    serverName?: string;
  };
  /** ACL user name; the URL's user (or none) when unset. */
  username?: string;
  /** The ACL user's password; the URL's password (or none) when unset. */
  passwordSecretRef?: KeyRef;
}

/** Scheduled snapshots of the managed Redis to a claim that outlives the HelloWorld (docs/backup.md). */
export interface RedisBackupSpec {
  /** Cron, evaluated in UTC (the CronJob's timeZone is Etc/UTC). */
  schedule: string;
  retain?: number;
  storage?: { size?: string; storageClassName?: string };
  suspend?: boolean;
}

/** A backup the managed Redis loads when it first starts on an empty volume. */
export interface RedisRestoreSpec {
  claimName: string;
  /** backup-<UTC time>.rdb; the newest in the claim when unset. */
  file?: string;
}

export interface RedisSpec {
  mode?: RedisMode;
  image?: string;
  storage?: { size?: string; storageClassName?: string; whenDeleted?: ClaimRetention };
  resources?: V1ResourceRequirements;
  backup?: RedisBackupSpec;
  restoreFrom?: RedisRestoreSpec;
  urlSecretRef?: { name: string; key: string };
  external?: ExternalRedisSpec;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

/** The service level objectives the generated alerts measure against (see docs/monitoring.md). */
export interface SloSpec {
  /** Share of /hello requests that must not fail with a 5xx over 30 days, in percent: 0 < x < 100. */
  availability?: number;
  /** The 99th percentile of /hello latency must stay under this many milliseconds. */
  latencyP99Ms?: number;
}

/** Prometheus Operator objects (ServiceMonitor, PrometheusRule) generated for this HelloWorld. */
export interface MonitoringSpec {
  /** Unset: on when the Prometheus Operator's CRDs exist in the cluster. */
  enabled?: boolean;
  slo?: SloSpec;
  /** Added to the generated objects, so that a Prometheus selects them. */
  labels?: Record<string, string>;
}

/**
 * The ServiceAccount the API pods run as: an existing one (`name`; the operator never creates or changes
 * it) or one the HelloWorld creates and owns (`create: true`, named after the HelloWorld), e.g. annotated
 * with a cloud role for workload identity. Absent: the namespace's `default`, as before.
 */
export interface ServiceAccountSpec {
  name?: string;
  create?: boolean;
  /** Annotations of the created ServiceAccount (create: true only). */
  annotations?: Record<string, string>;
  /** Mount the Kubernetes API token in the API pods (off: the API never calls the Kubernetes API). */
  automountToken?: boolean;
}

export type NotificationFormat = 'Json' | 'Slack';

/** Where a HelloWorld's rollout transitions are sent (docs/notifications.md). */
export interface NotificationsSpec {
  /** false: no notifications for this HelloWorld, not even to the operator's default webhook. */
  enabled?: boolean;
  /** A webhook of this HelloWorld's own, instead of the operator's default. */
  webhook?: {
    /** The key of a Secret in the HelloWorld's namespace whose value is the webhook's http(s) URL. */
    secretRef: KeyRef;
    format?: NotificationFormat;
  };
}

export interface HelloWorldSpec {
  image: string;
  replicas?: number;
  autoscaling?: AutoscalingSpec;
  disruptionBudget?: DisruptionBudgetSpec;
  rollout?: RolloutSpec;
  redis?: RedisSpec;
  resources?: V1ResourceRequirements;
  env?: V1EnvVar[];
  service?: { type?: ServiceType; port?: number };
  podAnnotations?: Record<string, string>;
  podLabels?: Record<string, string>;
  serviceAccount?: ServiceAccountSpec;
  monitoring?: MonitoringSpec;
  notifications?: NotificationsSpec;
}

export type Phase =
  'Pending' | 'Progressing' | 'Verifying' | 'Paused' | 'Available' | 'RolledBack' | 'Failed';
/** `Monitoring` says whether a ServiceMonitor and PrometheusRule were generated, and why (not). */
export type ConditionType =
  'Available' | 'Progressing' | 'Degraded' | 'Monitoring' | 'Reconciled' | 'Backup' | 'Notifications';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition. */
export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface RollbackRecord {
  fromRevision: string;
  toRevision: string;
  fromImage: string;
  toImage: string;
  reason: string;
  message: string;
  time: string;
}

/** How a rollout ended: made stable, rolled back, aborted by annotation, or failed with nothing undone. */
export type RolloutOutcome = 'Promoted' | 'RolledBack' | 'Aborted' | 'Failed';

/** One rollout's outcome in status.history. */
export interface HistoryEntry {
  revision: string;
  image: string;
  /** When the rollout of the revision started. */
  startTime: string;
  /** When its outcome was decided. */
  endTime: string;
  outcome: RolloutOutcome;
  /** The condition and event reason of the outcome, e.g. RolloutSucceeded, CrashLooping, Aborted. */
  reason: string;
  /** One printable line, at most 200 characters (rollout/history.ts). */
  summary: string;
}

/**
 * Cumulative /hello counters of the API's Prometheus metrics, summed over the pods sampled.
 * `buckets` are the histogram's cumulative counts by upper bound in seconds (`le`), +Inf last.
 * Declared here, not in verification/, because status.verification.lastSample stores it.
 */
export interface HelloSample {
  requests: number;
  errors: number;
  buckets: { le: number; count: number }[];
  /** Per-pod request counts, so a restarted pod (counter reset) is noticed. */
  pods: Record<string, number>;
  /**
   * Per-pod counters, so a restarted or new pod's delta counts from zero without disturbing the others.
   * Optional: without it, any reset makes the whole measurement count from zero.
   */
  perPod?: Record<string, HelloCounts>;
}

/** One pod's cumulative /hello counters, shaped like the sum. */
export interface HelloCounts {
  requests: number;
  errors: number;
  buckets: { le: number; count: number }[];
}

/** One side of a comparison measurement, as status shows it. */
export interface ComparisonSide {
  requests: number;
  errorRate?: number;
  p99Ms?: number;
  medianMs?: number;
}

/** The last comparison of the canary with the stable pods (status.verification.comparison). */
export interface ComparisonStatus {
  measuredAt: string;
  result: 'Pass' | 'Fail' | 'NoData';
  /** What the measurement counted as toward failureLimit (NoData by comparison.noData; Pass if dryRun). */
  counted: 'Pass' | 'Fail';
  dryRun?: boolean;
  message: string;
  canary: ComparisonSide;
  stable: ComparisonSide;
  errorRatePValue?: number;
  latencyPValue?: number;
}

/** What a dry-run measurement reports on: smoke checks, fixed thresholds, the comparison. */
export type DryRunCheck = 'smoke' | 'thresholds' | 'comparison';

/** A dry-run check that would have failed the rollout; one entry per check kind and verification. */
export interface DryRunFailure {
  check: DryRunCheck;
  /** The first time it would have failed (the event is sent then). */
  firstAt: string;
  /** How many times it would have failed so far. */
  count: number;
  message: string;
}

/** Where the current revision's verification stands; lives in status so a restarted operator resumes. */
export interface VerificationStatus {
  revision: string;
  startedAt: string;
  smokePassed?: boolean;
  /** When the analysis window began (after the smoke tests passed). */
  analysisStartedAt?: string;
  /** The previous metrics sample, so the next measurement is a delta even after an operator restart. */
  lastSample?: HelloSample;
  /** Consecutive failed analysis measurements so far. */
  consecutiveFailures: number;
  measurements: number;
  /** Measurements that saw no /hello traffic, so the final verdict can say what noData decided. */
  noDataMeasurements?: number;
  lastMeasurementAt?: string;
  lastMessage?: string;
  /** The operator sends probe traffic during the current analysis interval (see analysis.probe). */
  probing?: boolean;
  /** The stable pods' previous sample, when the canary is compared with them. */
  lastBaselineSample?: HelloSample;
  /** The last comparison of the canary with the stable pods. */
  comparison?: ComparisonStatus;
  /** Dry-run checks that would have failed this verification. */
  dryRunFailures?: DryRunFailure[];
}

export interface HelloWorldStatus {
  observedGeneration?: number;
  phase?: Phase;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  selector?: string;
  currentRevision?: string;
  stableRevision?: string;
  /** Pod template of the stable revision, so a rollback needs nothing but status. */
  stableImage?: string;
  /** The revision that failed and must not be retried until the spec or the retry annotation changes. */
  failedRevision?: string;
  /** The value of the hello.dev/retry annotation already acted on. */
  observedRetry?: string;
  /** The value of the hello.dev/abort annotation already acted on. */
  observedAbort?: string;
  /** The value of the hello.dev/promote annotation already acted on. */
  observedPromote?: string;
  rolloutStartedAt?: string;
  /** Since when the rollout in flight stands still under hello.dev/pause. */
  pausedAt?: string;
  /** The canary rollout in flight (strategy Canary); absent otherwise. */
  canary?: CanaryStatus;
  verification?: VerificationStatus;
  lastRollback?: RollbackRecord;
  /** Outcomes of the last rollouts, newest first, at most spec.rollout.historyLimit. */
  history?: HistoryEntry[];
  backup?: BackupStatus;
  /** What was sent to the notification webhook, and what waits to be (notify/ledger.ts). */
  notifications?: NotificationsStatus;
  conditions?: Condition[];
}

/** Where a canary rollout stands; lives in status so a restarted operator resumes at the same step. */
export interface CanaryStatus {
  revision: string;
  /** Index of the step in progress; equal to `steps` once every step passed and the stable Deployment rolls. */
  stepIndex: number;
  steps: number;
  stepStartedAt: string;
  /** Canary pods asked for, and ready, as last seen. */
  replicas: number;
  readyReplicas: number;
  /** Pods of the stable revision, ready, as last seen. */
  stableReplicas: number;
  message?: string;
}

/** A rollout transition as a webhook receives it; recorded in status until it was delivered. */
export interface PendingNotification {
  /** Stable across operator restarts: from (revision, rolloutStartedAt, reason[, canary step]); receivers may dedupe on it. */
  id: string;
  /** The transition's event reason, e.g. RolloutStarted, CrashLooping, RolloutSucceeded. */
  reason: string;
  transition: 'Started' | 'StepPassed' | 'Paused' | 'Promoted' | 'RolledBack' | 'Failed';
  revision: string;
  image: string;
  rolloutStartedAt: string;
  /** When the transition happened. */
  time: string;
  /** One printable line, at most 200 characters. */
  message: string;
  /** The rollback decided by this transition (status.lastRollback), for RolledBack. */
  rollback?: RollbackRecord;
  /** Delivery attempts that failed so far. */
  attempts?: number;
}

export interface NotificationsStatus {
  /** Notifications not yet delivered, oldest first; bounded (the oldest are dropped first). */
  pending?: PendingNotification[];
  /** Id of the last notification delivered. */
  lastSent?: string;
  lastSentTime?: string;
  /** Ids delivered or given up lately, newest first: never queued again. */
  recent?: string[];
  /** Notifications delivered, given up after the last retry, or dropped from a full queue. */
  sent?: number;
  failures?: number;
  dropped?: number;
  /** The last failed attempt, without the URL. */
  lastError?: string;
  lastErrorTime?: string;
}
/** The managed Redis's backups as the operator last saw them (builders/backup.ts, controller/backup-status.ts). */
export interface BackupStatus {
  lastSuccessTime?: string;
  lastFile?: string;
  lastSizeBytes?: number;
  /** Set only while the newest finished backup failed. */
  lastFailureTime?: string;
  lastFailureMessage?: string;
  maxAgeSeconds?: number;
}

export interface HelloWorld {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: HelloWorldSpec;
  status?: HelloWorldStatus;
}

/** Annotations users set on a HelloWorld. */
export const ANNOTATION_RETRY = 'hello.dev/retry';
export const ANNOTATION_ABORT = 'hello.dev/abort';
/** A new value ends the current canary step (a pause waiting for promotion, or any other) at once. */
export const ANNOTATION_PROMOTE = 'hello.dev/promote';
/** Any value but "" and "false": the rollout in flight stands still until it is removed. */
export const ANNOTATION_PAUSE = 'hello.dev/pause';
