/**
 * Glue between informers, the work queue and a reconcile function: which key an event queues, and the
 * per-reconcile logging and metrics every controller wants.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '#common/logger.js';
import type { Clock } from './clock.js';
import type { InformerHandlers } from './informer.js';
import type { OperatorMetrics } from './metrics.js';
import { controllerOf, INSTANCE_LABEL, keyOf, objectKey } from './store.js';
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

/** A work queue whose depth and retries feed the operator metrics. */
export function createWorkQueue(metrics?: OperatorMetrics, clock?: Clock): WorkQueue<string> {
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
  deps: { logger: Logger; metrics?: OperatorMetrics; now?: () => number },
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

/** Handlers that queue the object's own key (for the HelloWorld informer). */
export function enqueueObject(queue: WorkQueue<string>): InformerHandlers<KubernetesObject> {
  const add = (obj: KubernetesObject): void => {
    queue.add(keyOf(obj));
  };
  return { add, update: add, delete: add };
}

/**
 * Handlers that queue the owning HelloWorld of a child: its controller ownerReference of `ownerKind`,
 * else its `app.kubernetes.io/instance` label (pods and replica sets are owned by other children).
 */
export function enqueueOwner(
  queue: WorkQueue<string>,
  ownerKind = 'HelloWorld',
): InformerHandlers<KubernetesObject> {
  const add = (obj: KubernetesObject): void => {
    const key = ownerKey(obj, ownerKind);
    if (key !== undefined) queue.add(key);
  };
  return {
    add,
    delete: add,
    update: (obj, old) => {
      add(obj);
      // A child whose owner changed also concerns its previous owner.
      if (ownerKey(old, ownerKind) !== ownerKey(obj, ownerKind)) add(old);
    },
  };
}

/** The queue key of the HelloWorld that `obj` belongs to, if any. */
export function ownerKey(obj: KubernetesObject, ownerKind = 'HelloWorld'): string | undefined {
  const namespace = obj.metadata?.namespace;
  const ref = controllerOf(obj);
  if (ref?.kind === ownerKind) return objectKey(namespace, ref.name);
  const instance = obj.metadata?.labels?.[INSTANCE_LABEL];
  return instance === undefined ? undefined : objectKey(namespace, instance);
}
