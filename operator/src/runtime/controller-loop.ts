/**
 * Glue between informers, the work queue and a reconcile function: which key an event queues, and the
 * per-reconcile logging and metrics every controller wants.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '#common/logger.js';
import type { Clock } from './clock.js';
import type { InformerHandlers } from './informer.js';
import type { RuntimeMetrics } from './metrics.js';
import { controllerOf, keyOf, objectKey } from './store.js';
import { WorkQueue, type Handler, type Result } from './workqueue.js';

export interface Request {
  namespace: string;
  name: string;
}

/** A reconcile of one object; `log` already carries its namespace and name. */
export type Reconcile = (request: Request, log: Logger) => Promise<Result | undefined>;

export function parseKey(key: string): Request {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** A work queue whose depth and retries feed the controller metrics. */
export function createWorkQueue(metrics?: RuntimeMetrics, clock?: Clock): WorkQueue<string> {
  return new WorkQueue<string>({
    clock,
    onDepth: (depth) => metrics?.workqueueDepth.set(depth),
    onRetry: () => metrics?.workqueueRetries.inc(),
  });
}

/**
 * Wraps `reconcile` as a queue handler: a child logger with the object's namespace/name, the
 * reconcile duration, and the result (success, requeue, error) counted. Errors are logged and
 * rethrown so the queue retries with backoff.
 */
export function instrument(
  reconcile: Reconcile,
  deps: { logger: Logger; metrics?: RuntimeMetrics; now?: () => number },
): Handler<string> {
  const now = deps.now ?? (() => performance.now());
  return async (key) => {
    const request = parseKey(key);
    const log = deps.logger.child({ namespace: request.namespace, name: request.name });
    const started = now();
    try {
      const result = await reconcile(request, log);
      const requeue = result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0;
      deps.metrics?.observeReconcile(requeue ? 'requeue' : 'success', (now() - started) / 1000);
      return result;
    } catch (error) {
      deps.metrics?.observeReconcile('error', (now() - started) / 1000);
      log.error({ err: error }, 'reconcile failed; retrying with backoff');
      throw error;
    }
  };
}

/** Handlers that queue the object's own key (for the informer of the reconciled kind). */
export function enqueueObject(queue: WorkQueue<string>): InformerHandlers<KubernetesObject> {
  const add = (obj: KubernetesObject): void => {
    queue.add(keyOf(obj));
  };
  return { add, update: add, delete: add };
}

/** How a child names its owner: by kind, and by a label for objects owned by other children. */
export interface Owner {
  /** The kind of the controller ownerReference that names the owner. */
  kind: string;
  /** A label whose value is the owner's name (pods and replica sets are owned by other children). */
  nameLabel?: string;
}

/**
 * Handlers that queue the owner of a child: its controller ownerReference of `owner.kind`, else its
 * `owner.nameLabel` label.
 */
export function enqueueOwner(queue: WorkQueue<string>, owner: Owner): InformerHandlers<KubernetesObject> {
  const add = (obj: KubernetesObject): void => {
    const key = ownerKey(obj, owner);
    if (key !== undefined) queue.add(key);
  };
  return {
    add,
    delete: add,
    update: (obj, old) => {
      add(obj);
      // A child whose owner changed also concerns its previous owner.
      if (ownerKey(old, owner) !== ownerKey(obj, owner)) add(old);
    },
  };
}

/** The queue key of the owner that `obj` belongs to, if any. */
export function ownerKey(obj: KubernetesObject, owner: Owner): string | undefined {
  const namespace = obj.metadata?.namespace;
  const ref = controllerOf(obj);
  if (ref?.kind === owner.kind) return objectKey(namespace, ref.name);
  const name = owner.nameLabel === undefined ? undefined : obj.metadata?.labels?.[owner.nameLabel];
  return name === undefined ? undefined : objectKey(namespace, name);
}
