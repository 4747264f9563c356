/**
 * A typed informer: lists a resource, then watches it from the list's resourceVersion, keeping a cache
 * and indexes current and telling handlers about every add, update and delete.
 *
 * Restart policy (why this is not client-node's ListWatch, which stops for good on any error but 410):
 * - the watch ends normally (server timeout, idle timeout) → watch again from the last resourceVersion;
 * - 410 Gone (HTTP status or ERROR event) → relist at once;
 * - any other error (list or watch) → log at warn, count a restart, wait 1 s doubling to 30 s, relist.
 * A relist diffs the new list against the cache, so objects deleted while the watch was down still
 * produce delete events. The loop runs until `stop()`; nothing ends it silently.
 *
 * Scoped to a list of namespaces, the informer runs one such loop per namespace (the API has no list
 * across chosen namespaces, and RBAC granted per namespace allows nothing wider) into one cache.
 */
import type { KubernetesObject, KubernetesListObject } from '@kubernetes/client-node';
import type { Logger } from '#common/logger.js';
import { backoffDelay, sleep, systemClock, type Clock } from './clock.js';
import { ApiError, type KubeRest } from './rest.js';
import { CONTROLLER_INDEX, Store, controllerIndex, keyOf, objectKey, type IndexFunc } from './store.js';

/** Streams watch events; client-node's `Watch` has exactly this shape. */
export interface Watcher {
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, obj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController>;
}

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions<T> {
  /** Collection path, e.g. `/apis/apps/v1/deployments` (all namespaces). */
  path: string;
  /** List and watch only these namespaces (one request each); all namespaces when undefined. */
  namespaces?: readonly string[];
  rest: KubeRest;
  watcher: Watcher;
  logger: Logger;
  labelSelector?: string;
  clock?: Clock;
  /** Called on every restart after an error (e.g. to count `<prefix>_informer_restarts_total`). */
  onRestart?: (resource: string, error: unknown) => void;
  /** Applied to every object before it is cached; the default drops `metadata.managedFields`. */
  transform?: (obj: T) => T;
  pageSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

interface WatchOutcome {
  resourceVersion: string;
  events: number;
  gone: boolean;
  error?: unknown;
}

/** One list/watch loop: the whole collection, or one namespace of it. */
interface Scope {
  path: string;
  namespace?: string;
  synced: boolean;
  watch?: AbortController;
}

const NAMESPACE_INDEX = 'namespace';

/**
 * A cluster-wide collection path narrowed to one namespace:
 * `/apis/apps/v1/deployments` → `/apis/apps/v1/namespaces/<ns>/deployments`.
 */
export function namespacedPath(path: string, namespace: string | undefined): string {
  if (namespace === undefined) return path;
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash)}/namespaces/${encodeURIComponent(namespace)}${path.slice(slash)}`;
}

export class Informer<T extends KubernetesObject> {
  readonly resource: string;
  private readonly store: Store<T>;
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private readonly scopes: Scope[];
  private running: Promise<void> | undefined;

  constructor(private readonly options: InformerOptions<T>) {
    this.resource = options.path.split('/').at(-1) ?? options.path;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ informer: this.resource });
    const namespaces = options.namespaces ?? [undefined];
    this.scopes = namespaces.map((namespace) => ({
      path: namespacedPath(options.path, namespace),
      namespace,
      synced: false,
    }));
    this.store = new Store<T>({
      [CONTROLLER_INDEX]: controllerIndex,
      [NAMESPACE_INDEX]: (obj) => [obj.metadata?.namespace ?? ''],
    });
  }

  /** Registers handlers; call before `start` to see the initial list as adds. */
  addHandler(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    this.store.addIndex(name, fn);
  }

  /** Starts the list/watch loop (once). */
  start(): void {
    this.running ??= Promise.all(this.scopes.map((scope) => this.loop(scope))).then(() => undefined);
  }

  /** Ends the loop and its watch; resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const scope of this.scopes) scope.watch?.abort();
    await this.running;
  }

  /** True once the first list (of every namespace) has filled the cache; stays true across restarts. */
  hasSynced(): boolean {
    return this.scopes.every((scope) => scope.synced);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(objectKey(namespace, name));
  }

  /** Every cached object, or those of one namespace. For rare use: prefer `get` and the indexes. */
  list(namespace?: string): T[] {
    return namespace === undefined
      ? [...this.store.values()]
      : this.store.byIndex(NAMESPACE_INDEX, namespace);
  }

  /** Objects in `namespace` whose controller ownerReference is `ownerKind`/`ownerName`. */
  byController(namespace: string, ownerKind: string, ownerName: string): T[] {
    return this.store.byIndex(CONTROLLER_INDEX, `${namespace}/${ownerKind}/${ownerName}`);
  }

  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }

  size(): number {
    return this.store.size();
  }

  /** The watch currently open (of the first namespace), if any, for tests that force a watch failure. */
  activeWatch(): AbortController | undefined {
    return this.scopes[0]?.watch;
  }

  private stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(scope: Scope): Promise<void> {
    const log = scope.namespace === undefined ? this.log : this.log.child({ namespace: scope.namespace });
    const minMs = this.options.minBackoffMs ?? 1000;
    const maxMs = this.options.maxBackoffMs ?? 30_000;
    let failures = 0;
    let resourceVersion = '';
    while (!this.stopped()) {
      let outcome: WatchOutcome;
      const started = this.clock.now();
      try {
        if (resourceVersion === '') {
          resourceVersion = await this.relist(scope, log);
          scope.synced = true;
        }
        outcome = await this.watchOnce(scope, resourceVersion);
      } catch (error) {
        outcome = { resourceVersion: '', events: 0, gone: false, error };
      }
      if (this.stopped()) break;
      if (outcome.error !== undefined) {
        // Any error: relist after backoff, so nothing missed while the watch was down stays missed.
        const delayMs = backoffDelay(failures++, minMs, maxMs);
        resourceVersion = '';
        this.options.onRestart?.(this.resource, outcome.error);
        log.warn(
          { err: outcome.error, attempt: failures, delayMs },
          'list/watch failed; relisting after backoff',
        );
        await sleep(this.clock, delayMs, this.abort.signal);
      } else if (outcome.gone) {
        resourceVersion = '';
        log.info('watch expired (410 Gone); relisting');
      } else {
        resourceVersion = outcome.resourceVersion;
        if (outcome.events === 0 && this.clock.now() - started < minMs) {
          // A watch that closes at once without events is not healthy; do not spin on it.
          await sleep(this.clock, backoffDelay(failures++, minMs, maxMs), this.abort.signal);
        } else {
          failures = 0;
        }
      }
    }
    log.debug('informer stopped');
  }

  /** Lists every page and reconciles the scope's part of the cache with it; returns its resourceVersion. */
  private async relist(scope: Scope, log: Logger): Promise<string> {
    const seen = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.options.rest.request<KubernetesListObject<T>>('GET', scope.path, {
        query: {
          labelSelector: this.options.labelSelector,
          limit: this.options.pageSize ?? 500,
          continue: continueToken,
        },
      });
      const itemKind = page.kind?.replace(/List$/, '');
      for (const item of page.items) {
        const obj = this.transform({ apiVersion: page.apiVersion, kind: itemKind, ...item });
        seen.add(keyOf(obj));
        this.upsert(obj);
      }
      continueToken =
        page.metadata?._continue ?? (page.metadata as { continue?: string } | undefined)?.continue;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken !== undefined && continueToken !== '');
    const cached =
      scope.namespace === undefined
        ? [...this.store.keys()]
        : this.store.byIndex(NAMESPACE_INDEX, scope.namespace).map(keyOf);
    for (const key of cached) {
      if (!seen.has(key)) this.remove(key);
    }
    log.debug({ objects: seen.size, resourceVersion }, 'listed');
    return resourceVersion;
  }

  private watchOnce(scope: Scope, resourceVersion: string): Promise<WatchOutcome> {
    const outcome: WatchOutcome = { resourceVersion, events: 0, gone: false };
    return new Promise<WatchOutcome>((resolve) => {
      const onEvent = (phase: string, raw: unknown): void => {
        outcome.events++;
        const obj = raw as T;
        switch (phase) {
          case 'ADDED':
          case 'MODIFIED':
            this.upsert(this.transform(obj));
            break;
          case 'DELETED':
            this.remove(keyOf(obj), this.transform(obj));
            break;
          case 'ERROR': {
            const status = raw as { code?: number; reason?: string; message?: string };
            if (status.code === 410) outcome.gone = true;
            else
              outcome.error = new ApiError(
                status.code ?? 500,
                status.reason ?? '',
                status.message ?? 'watch error',
              );
            return;
          }
          default: // BOOKMARK: only the resourceVersion moves
            break;
        }
        outcome.resourceVersion = obj.metadata?.resourceVersion ?? outcome.resourceVersion;
      };
      let finished = false;
      const done = (err: unknown): void => {
        finished = true;
        scope.watch = undefined;
        if (isGone(err)) outcome.gone = true;
        else if (err !== null && err !== undefined && !isIdleTimeout(err)) outcome.error ??= err;
        resolve(outcome);
      };
      const query = {
        resourceVersion,
        allowWatchBookmarks: true,
        labelSelector: this.options.labelSelector,
        // Spread reconnects of many informers, as client-go does (5 to 10 minutes).
        timeoutSeconds: 300 + Math.floor(Math.random() * 300),
      };
      this.options.watcher.watch(scope.path, query, onEvent, done).then(
        (controller) => {
          if (finished) return; // failed while connecting; `done` has run already
          scope.watch = controller;
          if (this.stopped()) controller.abort();
        },
        (error: unknown) => {
          outcome.error = error;
          resolve(outcome);
        },
      );
    });
  }

  private transform(obj: T): T {
    if (this.options.transform !== undefined) return this.options.transform(obj);
    // Objects arrive fresh from JSON.parse, so dropping a field in place is safe. Field ownership is
    // the API server's business and often a third of an object's size.
    if (obj.metadata !== undefined) delete obj.metadata.managedFields;
    return obj;
  }

  private upsert(obj: T): void {
    const old = this.store.upsert(obj);
    if (old === undefined) this.emit('add', obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, old);
  }

  private remove(key: string, lastSeen?: T): void {
    const old = this.store.delete(key);
    if (old !== undefined) this.emit('delete', lastSeen ?? old);
  }

  private emit(event: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const handler of this.handlers) {
      try {
        if (event === 'update') handler.update?.(obj, old ?? obj);
        else handler[event]?.(obj);
      } catch (error) {
        this.log.error({ err: error, event, object: keyOf(obj) }, 'informer handler threw');
      }
    }
  }
}

function isGone(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { statusCode?: number; code?: number };
  return e.statusCode === 410 || e.code === 410;
}

/** client-node's Watch aborts a stream idle for 30 s; resuming from the resourceVersion is correct. */
function isIdleTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError';
}
