/**
 * Reconcile one HelloWorld: read the facts once, build everything it should own, apply only what
 * differs, let the rollout state machine judge the rollout, then persist status once. Level-triggered:
 * the same function runs for every event and for every requeue, and it never branches on what happened.
 */
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import type { Logger } from '#common/logger.js';
import { resolveSpec, type ResolvedSpec } from '../crd/defaults.js';
import type { HelloWorld, HelloWorldStatus } from '../crd/types.js';
import { selectorLabels, selectorString } from '../crd/labels.js';
import { desiredState, type DesiredState } from '../builders/index.js';
import { redisSecretName, type AbsentChild } from '../builders/meta.js';
import type { MonitoringDecision } from '../builders/monitoring.js';
import { servicePortsToReplace } from '../builders/service.js';
import { judgeRollout, type RolloutDecision } from '../rollout/machine.js';
import { Reason, setCondition } from '../rollout/conditions.js';
import { GATE_ANNOTATIONS, gateActor } from '../rollout/gates.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import { ChildReads } from './child-reads.js';
import {
  childKey,
  conflictMessage,
  isControlledBy,
  planChildren,
  prerequisites,
  type ChildPlan,
} from './ownership.js';
import { isConflictNew, withConflicts, withoutBlockedDegraded } from './conflict-status.js';
import { redisConfig, type RedisConfig } from './redis-config.js';
import { serviceAccountBlock } from './service-account.js';
import { backupOutcome, backupSince, restoreBlock, type BackupOutcome } from './backup.js';
import type { ReconcileDeps } from './reconcile-deps.js';
import { persistStatus, reportBlocked, reportFailure } from './status-report.js';
import { handOver, recordNotifications } from '../notify/reconcile-step.js';

export type { ReconcileDeps } from './reconcile-deps.js';

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
    deps.onBackup?.(namespace, name, undefined, undefined);
    deps.notifier?.sender.forget(namespace, name);
    return {};
  }
  const facts = observe(deps, hw);
  try {
    return await converge(deps, hw, facts, log);
  } catch (error) {
    await reportFailure(deps, log, hw, facts, error);
    throw error; // the work queue retries with backoff
  }
}

/** What one reconcile takes as given, read once before anything is decided. */
interface Facts {
  spec: ResolvedSpec;
  /** The one instant this reconcile's conditions and rollout verdicts are stamped with. */
  now: Date;
  generation: number;
  annotations: Record<string, string>;
  /** The stored status as the rollout judges it: a Degraded that a blocked reconcile set is over. */
  status: HelloWorldStatus;
  prometheusOperatorInstalled: boolean;
}

function observe(deps: ReconcileDeps, hw: HelloWorld): Facts {
  return {
    spec: resolveSpec(hw.spec),
    now: deps.now(),
    generation: hw.metadata.generation ?? 0,
    annotations: hw.metadata.annotations ?? {},
    status: withoutBlockedDegraded(hw.status ?? {}),
    prometheusOperatorInstalled: deps.prometheusOperatorInstalled(),
  };
}

/** Everything a reconcile does once the HelloWorld is known to exist. */
async function converge(
  deps: ReconcileDeps,
  hw: HelloWorld,
  facts: Facts,
  log: Logger,
): Promise<ReconcileResult> {
  const { namespace, name } = hw.metadata;
  const reads = new ChildReads(deps.reader, hw);
  const redis = await redisConfig(deps.reader, reads, hw, facts.spec);
  if (redis.state === 'unusable') {
    await reportBlocked(deps, log, hw, facts, redisBlock(redis));
    return { requeueAfterMs: WAITING_REQUEUE_MS };
  }
  const block =
    (await serviceAccountBlock(reads, hw, facts.spec)) ?? (await restoreBlock(reads, hw, facts.spec));
  if (block !== undefined) {
    await reportBlocked(deps, log, hw, facts, block);
    return { requeueAfterMs: WAITING_REQUEUE_MS };
  }

  const desired = desiredState(hw, facts.spec, {
    redis: redis.state === 'ready' ? redis : { password: undefined, checksum: '' },
    prometheusOperatorInstalled: facts.prometheusOperatorInstalled,
    rollout: {
      status: facts.status,
      annotations: facts.annotations,
      replicaSets: deps.reader.listReplicaSets(namespace, name),
      stableReplicas: storedReplicas(deps, hw),
    },
  });
  const plan = await planOwnership(reads, hw, facts.spec, desired, redis);
  if (redis.state === 'ready' && redis.regenerated && plan.apply.some((c) => c.object.kind === 'Secret')) {
    const message = `Secret ${redisSecretName(hw)} was gone: a new Redis password was generated; Redis and the API pods restart with it together`;
    log.warn({ secret: redisSecretName(hw) }, 'generated a new Redis password: the Secret was gone');
    void deps.events.record(hw, 'Warning', Reason.RedisPasswordRegenerated, message);
  }
  const applied = await applyChildren(deps, log, hw, plan, desired.absent);
  if (applied === undefined) {
    // Held back or someone else's: no rollout is judged on API pods the HelloWorld did not roll.
    await reportBlocked(deps, log, hw, facts, {
      reason: Reason.ChildConflict,
      message: conflictMessage(plan),
    });
    return { requeueAfterMs: CONFLICT_REQUEUE_MS };
  }

  const { decision, deployment } = await judgeRollout(
    {
      ...facts,
      specRevision: desired.specRevision,
      appliedRevision: desired.applied.revision,
      deployment: applied,
      pods: deps.reader.listPods(namespace, name),
      verifier: deps.verifier,
      ...(desired.canary.canaryReplicas !== undefined && {
        canary: { replicas: desired.canary.canaryReplicas, holdStable: desired.canary.holdStable },
      }),
      gateActors: Object.fromEntries(GATE_ANNOTATIONS.map((key) => [key, gateActor(hw.metadata, key)])),
    },
    () => deps.reader.readDeployment(namespace, name),
  );
  for (const event of decision.events) {
    void deps.events.record(hw, event.type, event.reason, event.message);
    for (const check of event.dryRunChecks ?? []) deps.onDryRunFailure?.(namespace, name, check);
  }
  if (decision.rollback) {
    log.warn({ reason: decision.rollback.reason }, 'rolling back to the stable revision');
    deps.onRollback?.(decision.rollback.reason);
  }

  const backup = backupOutcome(hw, deps.reader.listBackupPods(namespace, name), desired.backup);
  for (const event of backup.events) void deps.events.record(hw, event.type, event.reason, event.message);
  deps.onBackup?.(namespace, name, backup.status, backupSince(deps.reader, hw));
  const reconciled = reconciledStatus(hw, facts, {
    decision,
    monitoring: desired.monitoring,
    backup,
    plan,
    deployment,
  });
  const { events } = decision;
  const status = deps.notifier
    ? recordNotifications(deps.notifier, hw, { ...facts, events, status: reconciled, deployment })
    : reconciled;
  const heldBackMs = await persistStatus(deps, log, hw, status, facts.now);
  if (deps.notifier) handOver(deps.notifier, hw, facts.spec, status);
  const rolledBack = status.phase === 'RolledBack' ? status.lastRollback?.reason : undefined;
  deps.onRolledBack?.(namespace, name, rolledBack);
  if (plan.conflicts.length > 0 && isConflictNew(hw.status ?? {}, status)) {
    void deps.events.record(hw, 'Warning', Reason.ChildConflict, conflictMessage(plan));
  }

  if (decision.templateChanged) return { requeueAfterMs: 0 };
  const conflictRequeue = plan.conflicts.length > 0 ? CONFLICT_REQUEUE_MS : undefined;
  const requeues = [decision.requeueAfterMs, heldBackMs, conflictRequeue].filter((ms) => ms !== undefined);
  return requeues.length === 0 ? {} : { requeueAfterMs: Math.min(...requeues) };
}

/** Why nothing may be built while Redis is unusable, and until when. */
function redisBlock(redis: Extract<RedisConfig, { state: 'unusable' }>): { reason: string; message: string } {
  const what =
    redis.reason === Reason.RedisSecretInvalid ? 'the Redis URL is available' : 'the password is repaired';
  const message = `${redis.problem}; the API pods and Redis are not changed until ${what} (see the runbook)`;
  return { reason: redis.reason, message };
}

/** Whose object stands under each desired child's name, and so what may be applied now. */
async function planOwnership(
  reads: ChildReads,
  hw: HelloWorld,
  spec: ResolvedSpec,
  desired: DesiredState,
  redis: RedisConfig,
): Promise<ChildPlan> {
  const ownership = await reads.ownership(desired.apply);
  // Judged already: the password is read from that Secret before anything is built.
  if (redis.state === 'foreign') {
    ownership.set(childKey('Secret', redisSecretName(hw)), { state: 'foreign', conflict: redis.conflict });
  }
  const needs = prerequisites(hw, spec.redis.mode === 'Managed', spec.serviceAccount?.create === true);
  return planChildren(desired.apply, ownership, needs);
}

/**
 * Applies each child whose live object (the HelloWorld's own, cached, or read when the cache missed it;
 * undefined when there is none) differs in a field the operator sets, and deletes the HelloWorld's own
 * children no longer wanted. Returns the API Deployment as stored, or undefined when it was held back.
 */
async function applyChildren(
  deps: ReconcileDeps,
  log: Logger,
  hw: HelloWorld,
  plan: ChildPlan,
  absent: readonly AbsentChild[],
): Promise<V1Deployment | undefined> {
  let deployment: V1Deployment | undefined;
  for (const { object, live } of plan.apply) {
    // A claim is created once and never updated: its size may only grow, by the user's hand.
    if (object.kind === 'PersistentVolumeClaim' && live !== undefined) continue;
    const ports = servicePortsToReplace(object, live);
    if (ports !== undefined && live !== undefined) {
      log.info(
        { kind: object.kind, name: object.metadata?.name },
        'putting back the ports of a renumbered Service',
      );
      await deps.writer.mergePatch(live, { spec: { ports } });
    }
    const outcome = await deps.writer.applyIfNeeded(object, live);
    if (outcome.applied) {
      const fields = { kind: object.kind, name: object.metadata?.name, field: outcome.reason };
      log.info(fields, live ? 'updated child that differed' : 'created child');
    }
    // The stable Deployment (the canary Deployment is judged by its pods).
    if (isDeployment(outcome.object) && outcome.object.metadata?.name === hw.metadata.name)
      deployment = outcome.object;
  }
  const { namespace } = hw.metadata;
  for (const gone of absent) {
    const child = deps.reader.getChild({ ...gone, namespace });
    // Only the HelloWorld's own: a cached object of that name may be another's that carries the label.
    if (child && isControlledBy(child, hw)) {
      log.info({ kind: gone.kind, name: gone.name }, 'deleting child no longer wanted');
      await deps.writer.delete(gone.apiVersion, gone.kind, namespace, gone.name, child.metadata?.uid);
    }
  }
  return deployment;
}

const RECONCILED = {
  type: 'Reconciled',
  status: 'True',
  reason: Reason.Reconciled,
  message: 'every child is as the spec asks',
} as const;

/**
 * The status of a reconcile that judged the rollout: the machine's part, then Monitoring, Reconciled and
 * any conflict, and the API Deployment's replica counts (of the Deployment the rollout was judged on).
 */
function reconciledStatus(
  hw: HelloWorld,
  { generation, now }: Facts,
  outcome: {
    decision: RolloutDecision;
    monitoring: MonitoringDecision;
    backup: BackupOutcome;
    plan: ChildPlan;
    deployment: V1Deployment | undefined;
  },
): HelloWorldStatus {
  const { decision, monitoring, backup, plan, deployment } = outcome;
  // The Backup condition exists while backups are asked for.
  const withoutBackup = decision.status.conditions?.filter((c) => c.type !== 'Backup');
  const withBackup = backup.condition
    ? setCondition(decision.status.conditions, backup.condition, generation, now)
    : withoutBackup;
  const withMonitoring = setCondition(
    withBackup,
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
  return {
    ...decision.status,
    backup: backup.status, // undefined (dropped from the written JSON) once backups are off
    conditions,
    observedGeneration: generation,
    replicas: deployment?.status?.replicas ?? 0,
    readyReplicas: deployment?.status?.readyReplicas ?? 0,
    updatedReplicas: deployment?.status?.updatedReplicas ?? 0,
    selector: selectorString(selectorLabels(hw, 'api')),
  };
}

/** The stable Deployment's replicas as stored (the HPA's count with autoscaling); undefined before it exists. */
function storedReplicas(deps: ReconcileDeps, hw: HelloWorld): number | undefined {
  const { namespace, name } = hw.metadata;
  const live = deps.reader.getChild({ ...typeMeta(KINDS.Deployment), namespace, name });
  return live && isDeployment(live) ? live.spec?.replicas : undefined;
}

function isDeployment(obj: KubernetesObject): obj is V1Deployment {
  return obj.kind === 'Deployment';
}
