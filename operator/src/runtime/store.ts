/**
 * An informer's cache: objects by `namespace/name`, plus secondary indexes maintained on every change,
 * so looking up the children of one owner costs O(children), never a scan of the cache.
 */
import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';

export type IndexFunc<T> = (obj: T) => string[];

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

export function keyOf(obj: KubernetesObject): string {
  return objectKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/** The ownerReference with `controller: true`, if any. */
export function controllerOf(obj: KubernetesObject): V1OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/** Index name of the built-in "controlled by" index; values are `namespace/Kind/name`. */
export const CONTROLLER_INDEX = 'controller';

export const controllerIndex: IndexFunc<KubernetesObject> = (obj) => {
  const ref = controllerOf(obj);
  return ref === undefined ? [] : [`${obj.metadata?.namespace ?? ''}/${ref.kind}/${ref.name}`];
};

/** An index by the value of `label`; values are `namespace/<value>`. */
export function labelIndex(label: string): IndexFunc<KubernetesObject> {
  return (obj) => {
    const value = obj.metadata?.labels?.[label];
    return value === undefined ? [] : [`${obj.metadata?.namespace ?? ''}/${value}`];
  };
}

export class Store<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  /** index name → its function and its entries (index value → object keys). */
  private readonly indexes = new Map<string, { fn: IndexFunc<T>; entries: Map<string, Set<string>> }>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    for (const [name, fn] of Object.entries(indexers)) this.addIndex(name, fn);
  }

  /** Adds (or replaces) an index and builds it from the current contents. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    const entries = new Map<string, Set<string>>();
    this.indexes.set(name, { fn, entries });
    for (const [key, obj] of this.objects) addToIndex(entries, fn(obj), key);
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  has(key: string): boolean {
    return this.objects.has(key);
  }

  size(): number {
    return this.objects.size;
  }

  keys(): IterableIterator<string> {
    return this.objects.keys();
  }

  values(): IterableIterator<T> {
    return this.objects.values();
  }

  /** Stores `obj`; returns the object it replaced. */
  upsert(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.objects.get(key);
    if (old !== undefined) this.unindex(old, key);
    this.objects.set(key, obj);
    for (const { fn, entries } of this.indexes.values()) addToIndex(entries, fn(obj), key);
    return old;
  }

  /** Removes the object under `key`; returns it. */
  delete(key: string): T | undefined {
    const old = this.objects.get(key);
    if (old === undefined) return undefined;
    this.unindex(old, key);
    this.objects.delete(key);
    return old;
  }

  /** Objects whose index `name` yields `value`. */
  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (index === undefined) throw new Error(`no index named ${name}`);
    const keys = index.entries.get(value);
    if (keys === undefined) return [];
    const result: T[] = [];
    for (const key of keys) {
      const obj = this.objects.get(key);
      if (obj !== undefined) result.push(obj);
    }
    return result;
  }

  private unindex(obj: T, key: string): void {
    for (const { fn, entries } of this.indexes.values()) {
      for (const value of fn(obj)) {
        const keys = entries.get(value);
        keys?.delete(key);
        if (keys?.size === 0) entries.delete(value);
      }
    }
  }
}

function addToIndex(index: Map<string, Set<string>>, values: string[], key: string): void {
  for (const value of values) {
    let keys = index.get(value);
    if (keys === undefined) {
      keys = new Set();
      index.set(value, keys);
    }
    keys.add(key);
  }
}
