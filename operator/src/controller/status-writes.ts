/**
 * The reconciler's status writes: what it last wrote per HelloWorld, kept until the informer shows it,
 * and when, so a rollout's progress is not written on every step.
 *
 * A status write changes the HelloWorld's resourceVersion, and the informer delivers that change a
 * moment later. A reconcile of the same HelloWorld in between (its Deployment or pods changed meanwhile)
 * would read the status from before the write: it would start the same rollout again with a new
 * timestamp, or promote it again, and write a second time what the first write already said. So the
 * object the API server returned for a write stands in for the cached one while the cache still holds a
 * version the write was based on (client-go's MutationCache does the same for its controllers).
 *
 * While a rollout moves, its Deployment changes every second or so (a pod created, ready, an old one
 * gone), and each change moves the replica counts and the conditions' messages of the status. Those
 * are written at most once per PROGRESS_WRITE_INTERVAL_MS per HelloWorld, and less often when many
 * HelloWorlds roll out at once (progressWriteInterval); transitions (phase, revisions, a condition's
 * status or reason, observedGeneration) are always written at once, with the latest counts.
 */
import { isDeepStrictEqual } from 'node:util';
import type { HelloWorld, HelloWorldStatus } from '../crd/types.js';
import { objectKey } from '../runtime/store.js';
import { cachedHelloWorld } from './cache-reader.js';

interface Written {
  /** The object as the API server stored it after the write. */
  object: HelloWorld;
  /** resourceVersions known to predate `object`: what the write, and the writes before it, were based on. */
  stale: Set<string>;
}

export class StatusWrites {
  private readonly written = new Map<string, Written>();
  /** When the last status write of each HelloWorld returned (ms since the epoch). */
  private readonly writtenAt = new Map<string, number>();
  /** HelloWorlds whose last reconciled status had a rollout moving (Progressing=True). */
  private readonly rolling = new Set<string>();

  /**
   * The freshest HelloWorld known: the cached one, or the object of a status write the cache does not
   * show yet. Forgets a write once the cache has moved past the versions it was based on.
   */
  current(namespace: string, name: string, cached: HelloWorld | undefined): HelloWorld | undefined {
    const key = objectKey(namespace, name);
    if (cached === undefined) {
      this.writtenAt.delete(key);
      this.rolling.delete(key);
    }
    const entry = this.written.get(key);
    if (entry === undefined) return cached;
    const version = cached?.metadata.resourceVersion;
    if (cached !== undefined && version !== undefined && entry.stale.has(version)) return entry.object;
    this.written.delete(key);
    return cached;
  }

  /**
   * Records the object a status write returned at `at` (ms since the epoch), `before` being the object
   * the write was based on.
   */
  recorded(before: HelloWorld, after: HelloWorld, at: number): void {
    const key = objectKey(before.metadata.namespace, before.metadata.name);
    this.writtenAt.set(key, at);
    const based = before.metadata.resourceVersion;
    if (based === undefined || after.metadata.resourceVersion === undefined) return;
    const previous = this.written.get(key);
    // Based on an earlier write not in the cache yet: the versions that one superseded are stale too.
    const stale =
      previous !== undefined && previous.object.metadata.resourceVersion === based
        ? previous.stale
        : new Set<string>();
    stale.add(based);
    // Cut down as the informer does: only who owns a gate annotation is kept.
    this.written.set(key, { object: cachedHelloWorld(after), stale });
  }

  /** When the last status write of the HelloWorld returned; undefined if none since the operator started. */
  lastWriteAt(namespace: string, name: string): number | undefined {
    return this.writtenAt.get(objectKey(namespace, name));
  }

  /** Notes whether the HelloWorld's rollout moves, by the status a reconcile just computed for it. */
  rollingOut(namespace: string, name: string, status: HelloWorldStatus): void {
    const key = objectKey(namespace, name);
    if (isRollingOut(status)) this.rolling.add(key);
    else this.rolling.delete(key);
  }

  /** How many HelloWorlds roll out now, by their last reconcile. */
  rolloutsMoving(): number {
    return this.rolling.size;
  }

  /** Writes not yet seen in the cache, for tests. */
  size(): number {
    return this.written.size;
  }
}

/**
 * The least time between two status writes of one HelloWorld that only move a rollout's progress along.
 * Long enough that a rollout of a few replicas gets written as it starts and as it ends; short enough
 * that the counts `kubectl get hw` shows during a long rollout are seconds old, not minutes.
 */
export const PROGRESS_WRITE_INTERVAL_MS = 10_000;

/**
 * Progress writes of all HelloWorlds together, per second, when so many roll out at once that
 * PROGRESS_WRITE_INTERVAL_MS each would be more. A fleet-wide rollout then shows its transitions at
 * once (Progressing, Available, a rollback) and its replica counts less often, instead of adding a
 * write per HelloWorld every few seconds to an API server that is busy with the rollout itself; the
 * Deployments keep their live counts.
 */
export const PROGRESS_WRITES_PER_SECOND = 2;

/** The least time between two progress-only writes of one HelloWorld, with `rolloutsMoving` at once. */
export function progressWriteInterval(rolloutsMoving: number): number {
  return Math.max(
    PROGRESS_WRITE_INTERVAL_MS,
    Math.ceil((rolloutsMoving * 1000) / PROGRESS_WRITES_PER_SECOND),
  );
}

/** Status fields that change as a rollout's pods come and go, with nothing else changing. */
const PROGRESS_FIELD = /^(replicas|readyReplicas|updatedReplicas|conditions\[[A-Za-z]+\]\.message)$/;

/**
 * How long to hold a status write back (0: write now). Only a change of progress alone, while a
 * rollout moves (Progressing=True), waits: until `intervalMs` after the last write. The
 * reconcile then comes back and writes whatever changed meanwhile, or the transition that ends the
 * rollout.
 */
export function statusWriteDelay(input: {
  changes: readonly string[];
  next: HelloWorldStatus;
  /** When the last status write of this HelloWorld returned; undefined if unknown. */
  lastWriteAt: number | undefined;
  now: number;
  intervalMs?: number;
}): number {
  const { changes, next, lastWriteAt, now, intervalMs = PROGRESS_WRITE_INTERVAL_MS } = input;
  const progressOnly = changes.length > 0 && changes.every((c) => PROGRESS_FIELD.test(c));
  if (!isRollingOut(next) || !progressOnly || lastWriteAt === undefined) return 0;
  return Math.max(0, lastWriteAt + intervalMs - now);
}

function isRollingOut(status: HelloWorldStatus): boolean {
  return status.conditions?.some((c) => c.type === 'Progressing' && c.status === 'True') === true;
}

/**
 * The status fields that differ between `stored` and `next`, as paths: `phase`, `replicas`,
 * `conditions[Progressing].message`. Empty when a write would change nothing. Members that are
 * undefined count as absent, as the API server never stores them; the order of conditions is ignored.
 */
export function statusChanges(stored: HelloWorldStatus, next: HelloWorldStatus): string[] {
  const a = plain(stored);
  const b = plain(next);
  const changes: string[] = [];
  for (const field of union(Object.keys(a), Object.keys(b))) {
    if (field === 'conditions') continue;
    if (!isDeepStrictEqual(a[field], b[field])) changes.push(field);
  }
  const byType = (status: Record<string, unknown>): Map<string, Record<string, unknown>> =>
    new Map(
      ((status.conditions ?? []) as Record<string, unknown>[]).map((c) => [String(c.type), c] as const),
    );
  const [before, after] = [byType(a), byType(b)];
  for (const type of union([...before.keys()], [...after.keys()])) {
    const [x, y] = [before.get(type), after.get(type)];
    if (x === undefined || y === undefined) {
      changes.push(`conditions[${type}]`);
      continue;
    }
    for (const field of union(Object.keys(x), Object.keys(y))) {
      if (!isDeepStrictEqual(x[field], y[field])) changes.push(`conditions[${type}].${field}`);
    }
  }
  return changes;
}

function plain(status: HelloWorldStatus): Record<string, unknown> {
  return JSON.parse(JSON.stringify(status)) as Record<string, unknown>;
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}
