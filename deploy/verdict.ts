/**
 * The operator's verdict on one applied HelloWorld spec, read from the object as `kubectl get -o json`
 * returns it. Pure: wait-for-verdict.ts polls and reports, this decides.
 *
 * The status is hostile input (anyone who may write the status subresource, or a bug, can put anything
 * there), so it is read field by field and anything of the wrong type counts as absent.
 */

export interface ObservedCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

export interface ObservedRollback {
  reason: string;
  message: string;
  fromImage: string;
  toImage: string;
}

/** What the verdict is read from: the parts of a HelloWorld that matter here, each one checked. */
export interface Observed {
  generation?: number;
  uid?: string;
  image?: string;
  observedGeneration?: number;
  phase?: string;
  currentRevision?: string;
  stableRevision?: string;
  conditions: ObservedCondition[];
  lastRollback?: ObservedRollback;
}

export type Verdict =
  | { kind: 'waiting'; why: string }
  | { kind: 'available' }
  | { kind: 'failed'; phase: string; reason: string; message: string };

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;

/** Reads a HelloWorld (parsed JSON of any shape) into what the verdict needs. */
export function readObserved(object: unknown): Observed {
  const metadata = record(record(object).metadata);
  const spec = record(record(object).spec);
  const status = record(record(object).status);
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  const rollback = record(status.lastRollback);
  return {
    generation: count(metadata.generation),
    uid: text(metadata.uid),
    image: text(spec.image),
    observedGeneration: count(status.observedGeneration),
    phase: text(status.phase),
    currentRevision: text(status.currentRevision),
    stableRevision: text(status.stableRevision),
    conditions: conditions.map((c) => {
      const cond = record(c);
      return {
        type: text(cond.type) ?? '',
        status: text(cond.status) ?? '',
        reason: text(cond.reason) ?? '',
        message: text(cond.message) ?? '',
        observedGeneration: count(cond.observedGeneration),
      };
    }),
    lastRollback:
      text(rollback.message) !== undefined || text(rollback.reason) !== undefined
        ? {
            reason: text(rollback.reason) ?? '',
            message: text(rollback.message) ?? '',
            fromImage: text(rollback.fromImage) ?? '',
            toImage: text(rollback.toImage) ?? '',
          }
        : undefined,
  };
}

export const conditionOf = (observed: Observed, type: string): ObservedCondition | undefined =>
  observed.conditions.find((c) => c.type === type);

/**
 * The verdict on the spec of `expectedGeneration` (the generation the apply returned), or on whatever
 * generation the object has now when none is given.
 *
 * A phase counts only once the status describes the current spec: status.observedGeneration equals
 * metadata.generation. Right after an apply the status still holds the previous generation's verdict,
 * often Available; that is never taken for this one's. It also counts only when the reconcile that wrote
 * it was not blocked before the rollout (Reconciled=False: a missing Redis Secret, someone else's child,
 * an apply the API server refused): such a reconcile records the new generation but keeps the old phase.
 */
export function judge(observed: Observed, expectedGeneration?: number): Verdict {
  const { generation, observedGeneration, phase } = observed;
  if (expectedGeneration !== undefined && generation !== undefined && generation !== expectedGeneration) {
    return {
      kind: 'failed',
      phase: 'Superseded',
      reason: 'SpecChangedAgain',
      message:
        `the HelloWorld is at generation ${generation}, not the applied generation ${expectedGeneration}: ` +
        'its spec was changed (or the object recreated) before the operator judged this one',
    };
  }
  if (generation === undefined) return { kind: 'waiting', why: 'the object has no metadata.generation yet' };
  if (observedGeneration !== generation) {
    const seen = observedGeneration === undefined ? 'none' : String(observedGeneration);
    return {
      kind: 'waiting',
      why: `the operator has not observed generation ${generation} yet (status is of generation ${seen})`,
    };
  }
  const reconciled = conditionOf(observed, 'Reconciled');
  if (reconciled?.status === 'False') {
    return {
      kind: 'waiting',
      why: `the operator cannot roll out generation ${generation}: ${reconciled.reason}: ${reconciled.message}`,
    };
  }
  const degraded = conditionOf(observed, 'Degraded');
  switch (phase) {
    case 'Available':
      // Available is a pass only for the revision that now runs, with no failure on record.
      if (degraded?.status === 'True') {
        return { kind: 'waiting', why: `Available but Degraded: ${degraded.reason}: ${degraded.message}` };
      }
      if (observed.currentRevision !== observed.stableRevision) {
        return { kind: 'waiting', why: 'Available, but the current revision is not the stable one yet' };
      }
      return { kind: 'available' };
    case 'RolledBack':
      return {
        kind: 'failed',
        phase,
        reason: observed.lastRollback?.reason || degraded?.reason || 'RolledBack',
        message: observed.lastRollback?.message || degraded?.message || 'rolled back (no message recorded)',
      };
    case 'Failed':
      return {
        kind: 'failed',
        phase,
        reason: degraded?.reason || 'Failed',
        message: degraded?.message || 'the rollout failed (no message recorded)',
      };
    default:
      return { kind: 'waiting', why: `phase ${phase ?? '(none)'}` };
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration such as 90, 90s, 10m, 1h or 1h30m (a bare number is seconds) into milliseconds. */
export function parseDuration(value: string): number {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const parts = [...trimmed.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new Error(`not a duration: "${value}" (examples: 90s, 10m, 1h30m)`);
  }
  return parts.reduce((total, p) => total + Number(p[1]) * (UNITS[p[2] ?? ''] ?? 0), 0);
}
