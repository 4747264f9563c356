/**
 * What the reconciler wrote to HelloWorld status, kept until the informer shows it.
 *
 * A status write changes the HelloWorld's resourceVersion, and the informer delivers that change a
 * moment later. A reconcile of the same HelloWorld in between (its Deployment or pods changed meanwhile)
 * would read the status from before the write: it would start the same rollout again with a new
 * timestamp, or promote it again, and write a second time what the first write already said. So the
 * object the API server returned for a write stands in for the cached one while the cache still holds a
 * version the write was based on (client-go's MutationCache does the same for its controllers).
 */
import { isDeepStrictEqual } from 'node:util';
import type { HelloWorld, HelloWorldStatus } from '../api/types.js';
import { objectKey } from '../runtime/store.js';

interface Written {
  /** The object as the API server stored it after the write. */
  object: HelloWorld;
  /** resourceVersions known to predate `object`: what the write, and the writes before it, were based on. */
  stale: Set<string>;
}

export class StatusWrites {
  private readonly written = new Map<string, Written>();

  /**
   * The freshest HelloWorld known: the cached one, or the object of a status write the cache does not
   * show yet. Forgets a write once the cache has moved past the versions it was based on.
   */
  current(namespace: string, name: string, cached: HelloWorld | undefined): HelloWorld | undefined {
    const key = objectKey(namespace, name);
    const entry = this.written.get(key);
    if (entry === undefined) return cached;
    const version = cached?.metadata.resourceVersion;
    if (cached !== undefined && version !== undefined && entry.stale.has(version)) return entry.object;
    this.written.delete(key);
    return cached;
  }

  /** Records the object a status write returned, `before` being the object the write was based on. */
  recorded(before: HelloWorld, after: HelloWorld): void {
    const key = objectKey(before.metadata.namespace, before.metadata.name);
    const based = before.metadata.resourceVersion;
    if (based === undefined || after.metadata.resourceVersion === undefined) return;
    const previous = this.written.get(key);
    // Based on an earlier write not in the cache yet: the versions that one superseded are stale too.
    const stale =
      previous !== undefined && previous.object.metadata.resourceVersion === based
        ? previous.stale
        : new Set<string>();
    stale.add(based);
    // Field ownership is the API server's business: the informer drops it from cached objects too.
    const metadata = { ...after.metadata };
    delete metadata.managedFields;
    this.written.set(key, { object: { ...after, metadata }, stale });
  }

  /** Writes not yet seen in the cache, for tests and for a gauge of this map's size. */
  size(): number {
    return this.written.size;
  }
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
