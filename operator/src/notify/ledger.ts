/**
 * status.notifications as a ledger: transitions enter `pending` in the same status write that records the
 * transition, and leave it once the sender reports them delivered or given up. Only what the status holds
 * is ever sent, so a restarted operator sends what is pending and nothing else; a transition already
 * delivered (or given up) is in `recent` and is never queued again. Every function here is pure and
 * idempotent: a report folded twice changes nothing the second time.
 */
import type { ConditionUpdate } from '../rollout/conditions.js';
import { Reason } from '../rollout/conditions.js';
import type { NotificationsStatus, PendingNotification } from '../crd/types.js';

/** Most notifications pending at once; beyond, the oldest are dropped (and counted). */
export const MAX_PENDING = 20;
/** Most ids remembered as done; a transition is found once, so a few suffice against a late re-emit. */
export const MAX_RECENT = 20;
/** Longest error text kept: errors name the target and the cause, never the URL. */
export const MAX_ERROR_CHARS = 512;

/** What the sender learned about one pending notification. */
export type DeliveryReport =
  | { id: string; outcome: 'sent'; at: string }
  | { id: string; outcome: 'retrying' | 'gaveUp'; at: string; attempts: number; error: string };

/** Adds the new transitions that are neither pending nor done; drops the oldest beyond MAX_PENDING. */
export function enqueue(
  ledger: NotificationsStatus | undefined,
  fresh: readonly PendingNotification[],
): { ledger: NotificationsStatus; dropped: PendingNotification[] } {
  const current = ledger ?? {};
  const pending = [...(current.pending ?? [])];
  const known = new Set([...pending.map((p) => p.id), ...(current.recent ?? [])]);
  for (const note of fresh) {
    if (known.has(note.id)) continue;
    known.add(note.id);
    pending.push(note);
  }
  const dropped = pending.splice(0, Math.max(0, pending.length - MAX_PENDING));
  const next: NotificationsStatus = { ...current, pending };
  if (dropped.length > 0) {
    next.dropped = (current.dropped ?? 0) + dropped.length;
    next.recent = remember(
      current.recent,
      dropped.map((d) => d.id),
    );
  }
  return { ledger: next, dropped };
}

/** Folds the sender's reports into the ledger; reports of ids no longer pending change nothing. */
export function applyReports(
  ledger: NotificationsStatus,
  reports: readonly DeliveryReport[],
): NotificationsStatus {
  let next: NotificationsStatus = { ...ledger, pending: [...(ledger.pending ?? [])] };
  for (const report of reports) {
    const pending = next.pending ?? [];
    const index = pending.findIndex((p) => p.id === report.id);
    if (index < 0) continue;
    if (report.outcome === 'sent') {
      next = {
        ...next,
        pending: pending.filter((_, i) => i !== index),
        lastSent: report.id,
        lastSentTime: report.at,
        sent: (next.sent ?? 0) + 1,
        recent: remember(next.recent, [report.id]),
      };
      continue;
    }
    const failed = { lastError: report.error.slice(0, MAX_ERROR_CHARS), lastErrorTime: report.at };
    if (report.outcome === 'gaveUp') {
      next = {
        ...next,
        ...failed,
        pending: pending.filter((_, i) => i !== index),
        failures: (next.failures ?? 0) + 1,
        recent: remember(next.recent, [report.id]),
      };
    } else {
      const attempts = Math.max(pending[index]?.attempts ?? 0, report.attempts);
      next = {
        ...next,
        ...failed,
        pending: pending.map((p, i) => (i === index ? { ...p, attempts } : p)),
      };
    }
  }
  return next;
}

/**
 * The Notifications condition: False (WebhookFailed) while the last attempt, delivered or not, failed;
 * True once a notification was delivered after it; absent until something was attempted.
 */
export function notificationsCondition(ledger: NotificationsStatus): ConditionUpdate | undefined {
  const { lastSentTime, lastErrorTime, lastError, lastSent } = ledger;
  if (lastErrorTime !== undefined && (lastSentTime === undefined || lastErrorTime > lastSentTime)) {
    const waiting = ledger.pending?.length ?? 0;
    return {
      type: 'Notifications',
      status: 'False',
      reason: Reason.WebhookFailed,
      message: `${lastError ?? 'delivery failed'}; ${String(waiting)} pending, ${String(ledger.failures ?? 0)} given up`,
    };
  }
  if (lastSentTime === undefined) return undefined;
  return {
    type: 'Notifications',
    status: 'True',
    reason: Reason.NotificationsDelivered,
    message: `the webhook took notification ${lastSent ?? ''} at ${lastSentTime}`,
  };
}

function remember(recent: readonly string[] | undefined, ids: readonly string[]): string[] {
  return [...[...ids].reverse(), ...(recent ?? []).filter((id) => !ids.includes(id))].slice(0, MAX_RECENT);
}
