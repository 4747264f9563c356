/**
 * How a reconcile's outcome reaches the HelloWorld's status: a blocked reconcile, a failed one, and the
 * one write of a reconciled status (held back while only a rollout's progress moves).
 */
import type { Logger } from '#common/logger.js';
import type { HelloWorld, HelloWorldStatus } from '../crd/types.js';
import { Reason, setCondition } from '../rollout/conditions.js';
import { blockedStatus } from './conflict-status.js';
import type { ReconcileDeps } from './reconcile-deps.js';
import { progressWriteInterval, statusChanges, statusWriteDelay } from './status-writes.js';

/**
 * A reconcile that cannot go on (someone else's child, an unusable Redis Secret, a missing
 * ServiceAccount): Degraded=True and
 * Reconciled=False with the reason, the rest of the status as it was, and a Warning event when the
 * condition changes (not on every requeue).
 */
export async function reportBlocked(
  deps: ReconcileDeps,
  log: Logger,
  hw: HelloWorld,
  facts: { now: Date },
  block: { reason: string; message: string },
): Promise<void> {
  const status = blockedStatus(hw, block, facts.now);
  if (statusChanges(hw.status ?? {}, status).length > 0) {
    void deps.events.record(hw, 'Warning', block.reason, block.message);
  }
  await persistStatus(deps, log, hw, status, facts.now);
}

/** Longest error text kept in the condition: API server messages can quote whole objects. */
const FAILURE_MESSAGE_CHARS = 512;

/**
 * A reconcile that failed (an apply the API server refused, a read that timed out) shows on the
 * HelloWorld: Reconciled=False with the error, and a Warning event when that condition changes; the
 * backoff's retries do not repeat the event. A failure to write this status is logged, not thrown:
 * the caller rethrows the original error.
 */
export async function reportFailure(
  deps: ReconcileDeps,
  log: Logger,
  hw: HelloWorld,
  facts: { now: Date; generation: number },
  error: unknown,
): Promise<void> {
  const text = error instanceof Error ? error.message : String(error);
  const message = text.length > FAILURE_MESSAGE_CHARS ? `${text.slice(0, FAILURE_MESSAGE_CHARS)}…` : text;
  const previous = hw.status ?? {};
  const conditions = setCondition(
    previous.conditions ?? [],
    { type: 'Reconciled', status: 'False', reason: Reason.ReconcileFailed, message },
    facts.generation,
    facts.now,
  );
  const status: HelloWorldStatus = { ...previous, phase: previous.phase ?? 'Pending', conditions };
  if (statusChanges(previous, status).length === 0) return;
  void deps.events.record(hw, 'Warning', Reason.ReconcileFailed, message);
  try {
    await writeStatus(deps, hw, status);
  } catch (writeError) {
    log.warn({ err: writeError }, 'could not record the failed reconcile in the status');
  }
}

/**
 * Writes the status when it differs from the stored one, unless it only moves a rollout's progress
 * along and the last write was moments ago: then returns how long to wait before looking again.
 */
export async function persistStatus(
  deps: ReconcileDeps,
  log: Logger,
  hw: HelloWorld,
  status: HelloWorldStatus,
  now: Date,
): Promise<number | undefined> {
  const { namespace, name } = hw.metadata;
  deps.statusWrites.rollingOut(namespace, name, status);
  const changes = statusChanges(hw.status ?? {}, status);
  if (changes.length === 0) return undefined;
  const delayMs = statusWriteDelay({
    changes,
    next: status,
    lastWriteAt: deps.statusWrites.lastWriteAt(namespace, name),
    now: now.getTime(),
    intervalMs: progressWriteInterval(deps.statusWrites.rolloutsMoving()),
  });
  if (delayMs > 0) {
    log.debug({ fields: changes, delayMs }, 'status write held back: progress only');
    return delayMs;
  }
  await writeStatus(deps, hw, status);
  log.debug({ fields: changes }, 'status written');
  return undefined;
}

/** Writes the status, and keeps what the API server returned (and when) until the informer shows it. */
async function writeStatus(deps: ReconcileDeps, hw: HelloWorld, status: HelloWorldStatus): Promise<void> {
  const written = await deps.writer.patchStatus(hw, status);
  deps.statusWrites.recorded(hw, written, deps.now().getTime());
}
