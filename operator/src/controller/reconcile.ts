/**
 * Reconcile one HelloWorld: read everything, build the desired children, apply only what differs, let
 * the rollout state machine judge the rollout, then persist status once. Level-triggered: the same
 * function runs for every event and for every requeue, and it never branches on what happened.
 */
import type { KubernetesObject, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { Logger } from '#common/logger.js';
import { resolveSpec } from '../api/defaults.js';
import type { HelloWorld, HelloWorldStatus } from '../api/types.js';
import { buildPodTemplate, desiredState } from '../builders/index.js';
import { redisSecretName, selectorLabels, selectorString } from '../builders/meta.js';
import {
  buildPrometheusRule,
  buildServiceMonitor,
  monitoringChildren,
  monitoringWanted,
} from '../builders/monitoring.js';
import { REVISION_ANNOTATION } from '../rollout/revision.js';
import { chooseTemplate, judgeRollout } from '../rollout/machine.js';
import { Reason, setCondition } from '../rollout/conditions.js';
import type { Verifier } from '../verification/types.js';
import type { EventSink } from '../runtime/events.js';
import type { KubeWriter } from '../runtime/kube.js';
import type { ClusterReader } from './ports.js';
import { ChildReads } from './child-reads.js';
import { childKey, conflictMessage, isControlledBy, planChildren, prerequisites } from './ownership.js';
import { blockedStatus, isConflictNew, withConflicts, withoutBlockedDegraded } from './conflict-status.js';
import { redisConfig } from './redis-config.js';
import {
  progressWriteInterval,
  statusChanges,
  statusWriteDelay,
  type StatusWrites,
} from './status-writes.js';

export interface ReconcileDeps {
  reader: ClusterReader;
  writer: KubeWriter;
  /** The status writes the informer has not delivered yet; reconciles judge the status as stored. */
  statusWrites: StatusWrites;
  events: EventSink;
  verifier: Verifier;
  /** Whether the Prometheus Operator's CRDs are installed (ServiceMonitor, PrometheusRule). */
  prometheusOperatorInstalled: () => boolean;
  now: () => Date;
  onRollback?: (reason: string) => void;
  /** The reason of the rollback a HelloWorld runs on now; undefined when it is not rolled back or gone. */
  onRolledBack?: (namespace: string, name: string, reason: string | undefined) => void;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** How often a HelloWorld waiting on something outside the operator (a user's Secret) is looked at again. */
const WAITING_REQUEUE_MS = 30_000;
/**
 * How often a HelloWorld with a conflicting child is looked at again: someone else's object carries no
 * operator label, so its deletion reaches no informer; the HelloWorld recovers on this requeue.
 */
const CONFLICT_REQUEUE_MS = 15_000;

export async function reconcile(
  deps: ReconcileDeps,
  { namespace, name }: { namespace: string; name: string },
  log: Logger,
): Promise<ReconcileResult> {
  const hw = deps.statusWrites.current(namespace, name, deps.reader.getHelloWorld(namespace, name));
  // Gone or going: owner references let the garbage collector remove the children.
  if (!hw || hw.metadata.deletionTimestamp) {
    deps.onRolledBack?.(namespace, name, undefined);
    return {};
  }
  try {
    return await converge(deps, hw, log);
  } catch (error) {
    await reportFailure(deps, log, hw, error);
    throw error; // the work queue retries with backoff
  }
}

/** Everything a reconcile does once the HelloWorld is known to exist. */
async function converge(deps: ReconcileDeps, hw: HelloWorld, log: Logger): Promise<ReconcileResult> {
  const { namespace, name } = hw.metadata;
  const spec = resolveSpec(hw.spec);
  const now = deps.now();

  const reads = new ChildReads(deps.reader, hw);
  const redis = await redisConfig(deps.reader, reads, hw, spec);
  if (redis.state === 'unusable') {
    const what =
      redis.reason === 'RedisSecretInvalid' ? 'the Redis URL is available' : 'the password is repaired';
    const message = `${redis.problem}; the API pods and Redis are not changed until ${what} (see the runbook)`;
    await reportBlocked(deps, log, hw, { reason: redis.reason, message }, now);
    return { requeueAfterMs: WAITING_REQUEUE_MS };
  }

  const specTemplate = buildPodTemplate(hw, spec, redis.state === 'ready' ? redis.checksum : '');
  const specRevision = revisionOfTemplate(specTemplate);
  const annotations = hw.metadata.annotations ?? {};
  const previous = withoutBlockedDegraded(hw.status ?? {});
  const choice = chooseTemplate({
    status: previous,
    specRevision,
    annotations,
    autoRollback: spec.rollout.autoRollback,
  });
  const template =
    choice.use === 'stable'
      ? (stableTemplate(deps.reader, hw, choice.revision) ?? specTemplate)
      : specTemplate;

  const password = redis.state === 'ready' ? redis.password : undefined;
  const desired = desiredState(hw, spec, { template, redisPassword: password });
  const monitoring = monitoringWanted(spec.monitoring, deps.prometheusOperatorInstalled());
  if (monitoring.enabled) desired.apply.push(buildServiceMonitor(hw, spec), buildPrometheusRule(hw, spec));
  else if (deps.prometheusOperatorInstalled()) desired.absent.push(...monitoringChildren(hw));

  const ownership = await reads.ownership(desired.apply);
  if (redis.state === 'foreign') {
    ownership.set(childKey('Secret', redisSecretName(hw)), { state: 'foreign', conflict: redis.conflict });
  }
  const plan = planChildren(desired.apply, ownership, prerequisites(hw, spec.redis.mode === 'Managed'));
  if (redis.state === 'ready' && redis.regenerated && plan.apply.some((c) => c.object.kind === 'Secret')) {
    const message = `Secret ${redisSecretName(hw)} was gone: a new Redis password was generated; Redis and the API pods restart with it together`;
    log.warn({ secret: redisSecretName(hw) }, 'generated a new Redis password: the Secret was gone');
    void deps.events.record(hw, 'Warning', Reason.RedisPasswordRegenerated, message);
  }
  let deployment: V1Deployment | undefined;
  for (const { object, live } of plan.apply) {
    const stored = await applyIfChanged(deps, log, object, live);
    if (isDeployment(stored)) deployment = stored;
  }
  for (const gone of desired.absent) {
    const child = deps.reader.getChild({ ...gone, namespace });
    // Only the HelloWorld's own: a cached object of that name may be another's that carries the label.
    if (child && isControlledBy(child, hw)) {
      log.info({ kind: gone.kind, name: gone.name }, 'deleting child no longer wanted');
      await deps.writer.delete(gone.apiVersion, gone.kind, namespace, gone.name, child.metadata?.uid);
    }
  }
  if (deployment === undefined) {
    // Held back or someone else's: no rollout is judged on API pods the HelloWorld did not roll.
    await reportBlocked(deps, log, hw, { reason: Reason.ChildConflict, message: conflictMessage(plan) }, now);
    return { requeueAfterMs: CONFLICT_REQUEUE_MS };
  }

  const pods = deps.reader.listPods(namespace, name);
  const judged = await judgeRollout(
    {
      now,
      generation: hw.metadata.generation ?? 0,
      annotations,
      status: previous,
      spec,
      specRevision,
      appliedRevision: revisionOfTemplate(template),
      deployment,
      pods,
      verifier: deps.verifier,
    },
    () => deps.reader.readDeployment(namespace, name),
  );
  const decision = judged.decision;
  const live = judged.deployment;

  for (const event of decision.events) void deps.events.record(hw, event.type, event.reason, event.message);
  if (decision.rollback) {
    log.warn({ reason: decision.rollback.reason }, 'rolling back to the stable revision');
    deps.onRollback?.(decision.rollback.reason);
  }

  const generation = hw.metadata.generation ?? 0;
  const withMonitoring = setCondition(
    decision.status.conditions,
    {
      type: 'Monitoring',
      status: monitoring.enabled ? 'True' : 'False',
      reason: monitoring.reason,
      message: monitoring.message,
    },
    generation,
    now,
  );
  const conditions = withConflicts(plan, hw, setCondition(withMonitoring, RECONCILED, generation, now), now);
  const status: HelloWorldStatus = {
    ...decision.status,
    conditions,
    observedGeneration: generation,
    replicas: live?.status?.replicas ?? 0,
    readyReplicas: live?.status?.readyReplicas ?? 0,
    updatedReplicas: live?.status?.updatedReplicas ?? 0,
    selector: selectorString(selectorLabels(hw, 'api')),
  };
  const heldBackMs = await persistStatus(deps, log, hw, status);
  deps.onRolledBack?.(
    namespace,
    name,
    status.phase === 'RolledBack' ? status.lastRollback?.reason : undefined,
  );

  if (plan.conflicts.length > 0 && isConflictNew(hw.status ?? {}, status)) {
    void deps.events.record(hw, 'Warning', Reason.ChildConflict, conflictMessage(plan));
  }

  if (decision.templateChanged) return { requeueAfterMs: 0 };
  const conflictRequeue = plan.conflicts.length > 0 ? CONFLICT_REQUEUE_MS : undefined;
  const requeues = [decision.requeueAfterMs, heldBackMs, conflictRequeue].filter((ms) => ms !== undefined);
  return requeues.length === 0 ? {} : { requeueAfterMs: Math.min(...requeues) };
}

const RECONCILED = {
  type: 'Reconciled',
  status: 'True',
  reason: Reason.Reconciled,
  message: 'every child is as the spec asks',
} as const;

/** Longest error text kept in the condition: API server messages can quote whole objects. */
const FAILURE_MESSAGE_CHARS = 512;

/**
 * A reconcile that failed (an apply the API server refused, a read that timed out) shows on the
 * HelloWorld: Reconciled=False with the error, and a Warning event when that condition changes; the
 * backoff's retries do not repeat the event. A failure to write this status is logged, not thrown:
 * the caller rethrows the original error.
 */
async function reportFailure(
  deps: ReconcileDeps,
  log: Logger,
  hw: HelloWorld,
  error: unknown,
): Promise<void> {
  const text = error instanceof Error ? error.message : String(error);
  const message = text.length > FAILURE_MESSAGE_CHARS ? `${text.slice(0, FAILURE_MESSAGE_CHARS)}…` : text;
  const generation = hw.metadata.generation ?? 0;
  const previous = hw.status ?? {};
  const conditions = setCondition(
    previous.conditions ?? [],
    { type: 'Reconciled', status: 'False', reason: Reason.ReconcileFailed, message },
    generation,
    deps.now(),
  );
  const status: HelloWorldStatus = { ...previous, phase: previous.phase ?? 'Pending', conditions };
  if (statusChanges(previous, status).length === 0) return;
  void deps.events.record(hw, 'Warning', Reason.ReconcileFailed, message);
  try {
    const written = await deps.writer.patchStatus(hw, status);
    deps.statusWrites.recorded(hw, written, deps.now().getTime());
  } catch (writeError) {
    log.warn({ err: writeError }, 'could not record the failed reconcile in the status');
  }
}

/**
 * Compares with the HelloWorld's own live object (cached, or read when the cache missed it; undefined
 * when there is none) and writes only when a field the operator sets differs.
 */
async function applyIfChanged(
  deps: ReconcileDeps,
  log: Logger,
  obj: KubernetesObject,
  live: KubernetesObject | undefined,
): Promise<KubernetesObject> {
  const outcome = await deps.writer.applyIfNeeded(obj, live);
  if (outcome.applied) {
    const fields = { kind: obj.kind, name: obj.metadata?.name, field: outcome.reason };
    log.info(fields, live ? 'updated child that differed' : 'created child');
  }
  return outcome.object;
}

/**
 * Writes the status when it differs from the stored one, unless it only moves a rollout's progress
 * along and the last write was moments ago: then returns how long to wait before looking again.
 */
async function persistStatus(
  deps: ReconcileDeps,
  log: Logger,
  hw: HelloWorld,
  status: HelloWorldStatus,
): Promise<number | undefined> {
  const { namespace, name } = hw.metadata;
  deps.statusWrites.rollingOut(namespace, name, status);
  const changes = statusChanges(hw.status ?? {}, status);
  if (changes.length === 0) return undefined;
  const delayMs = statusWriteDelay({
    changes,
    next: status,
    lastWriteAt: deps.statusWrites.lastWriteAt(namespace, name),
    now: deps.now().getTime(),
    intervalMs: progressWriteInterval(deps.statusWrites.rolloutsMoving()),
  });
  if (delayMs > 0) {
    log.debug({ fields: changes, delayMs }, 'status write held back: progress only');
    return delayMs;
  }
  const written = await deps.writer.patchStatus(hw, status);
  deps.statusWrites.recorded(hw, written, deps.now().getTime());
  log.debug({ fields: changes }, 'status written');
  return undefined;
}

function revisionOfTemplate(template: V1PodTemplateSpec): string {
  return template.metadata?.annotations?.[REVISION_ANNOTATION] ?? '';
}

/** The stable revision's pod template, from the Deployment's ReplicaSet history (like `rollout undo`). */
function stableTemplate(
  reader: ClusterReader,
  hw: HelloWorld,
  revision: string,
): V1PodTemplateSpec | undefined {
  const sets = reader.listReplicaSets(hw.metadata.namespace, hw.metadata.name);
  const match = sets.find(
    (rs) => rs.spec?.template?.metadata?.annotations?.[REVISION_ANNOTATION] === revision,
  );
  const template = match?.spec?.template;
  if (!template) return undefined;
  // The Deployment controller adds pod-template-hash itself; carrying it over would change the hash.
  const labels = Object.fromEntries(
    Object.entries(template.metadata?.labels ?? {}).filter(([key]) => key !== 'pod-template-hash'),
  );
  return { ...template, metadata: { ...template.metadata, labels } };
}

/**
 * A reconcile that cannot go on (someone else's child, an unusable Redis Secret): Degraded=True and
 * Reconciled=False with the reason, the rest of the status as it was, and a Warning event when the
 * condition changes (not on every requeue).
 */
async function reportBlocked(
  deps: ReconcileDeps,
  log: Logger,
  hw: HelloWorld,
  block: { reason: string; message: string },
  now: Date,
): Promise<void> {
  const status = blockedStatus(hw, block, now);
  if (statusChanges(hw.status ?? {}, status).length > 0) {
    void deps.events.record(hw, 'Warning', block.reason, block.message);
  }
  await persistStatus(deps, log, hw, status);
}

function isDeployment(obj: KubernetesObject): obj is V1Deployment {
  return obj.kind === 'Deployment';
}
