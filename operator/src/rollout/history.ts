/**
 * status.history: the outcomes of the last rollouts, newest first. It lives in status, so it survives an
 * operator restart, and it is bounded (entries and summary length) so the status stays far below etcd's
 * object size limit whatever the pods answer.
 */
import type { HistoryEntry } from '../crd/types.js';

/** The most entries spec.rollout.historyLimit allows (the CRD schema enforces it too). */
export const MAX_HISTORY_LIMIT = 50;
/** A summary is cut to this many characters, an ellipsis marking the cut. */
export const MAX_SUMMARY_CHARS = 200;

/**
 * The history with `entry` first, at most `limit` entries. A rollout's outcome is recorded once: an entry
 * for the same revision and start time is already there when a reconcile decides again on a status that
 * holds it, and then the history only gets bounded.
 */
export function recordOutcome(
  history: readonly HistoryEntry[] | undefined,
  entry: HistoryEntry,
  limit: number,
): HistoryEntry[] {
  const list = history ?? [];
  const known = list.some((e) => e.revision === entry.revision && e.startTime === entry.startTime);
  return boundHistory(known ? list : [entry, ...list], limit);
}

/** The newest `limit` entries (1 to MAX_HISTORY_LIMIT, whatever is asked). */
export function boundHistory(history: readonly HistoryEntry[], limit: number): HistoryEntry[] {
  const max = Number.isFinite(limit) ? Math.min(Math.max(1, Math.floor(limit)), MAX_HISTORY_LIMIT) : 1;
  return history.slice(0, max);
}

/**
 * One printable line of at most `max` characters (plus the ellipsis): pod answers can reach these
 * messages, so control, format (bidi, zero-width) and separator characters become spaces and runs of
 * white space collapse to one.
 */
export function summarize(message: string, max = MAX_SUMMARY_CHARS): string {
  const line = message
    .replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(line); // code points, so a cut never splits a surrogate pair
  return chars.length > max ? `${chars.slice(0, max).join('').trimEnd()}…` : line;
}
