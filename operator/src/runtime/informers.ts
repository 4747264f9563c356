/**
 * One shared informer per watched resource, created, started, synced and stopped together; all of them
 * cluster-wide, or all in the same namespaces when the operator is scoped to some.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '#common/logger.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { Informer, type Watcher } from './informer.js';
import type { OperatorMetrics } from './metrics.js';
import type { Connection } from './connection.js';
import { HttpKubeRest, type KubeRest } from './rest.js';
import { HttpWatcher } from './watch.js';

/** Cluster-wide collection paths of everything the operator watches. */
export const WATCH_PATHS = {
  helloWorlds: '/apis/hello.dev/v1alpha1/helloworlds',
  deployments: '/apis/apps/v1/deployments',
  replicaSets: '/apis/apps/v1/replicasets',
  statefulSets: '/apis/apps/v1/statefulsets',
  services: '/api/v1/services',
  secrets: '/api/v1/secrets',
  pods: '/api/v1/pods',
  horizontalPodAutoscalers: '/apis/autoscaling/v2/horizontalpodautoscalers',
  podDisruptionBudgets: '/apis/policy/v1/poddisruptionbudgets',
  networkPolicies: '/apis/networking.k8s.io/v1/networkpolicies',
} as const;

/** Children are watched through this selector, so the caches hold only the operator's own objects. */
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=helloworld-operator';

export interface InformerFactoryOptions {
  rest: KubeRest;
  watcher: Watcher;
  logger: Logger;
  metrics?: OperatorMetrics;
  clock?: Clock;
  /** Watch only these namespaces (WATCH_NAMESPACE); all namespaces when undefined. */
  namespaces?: readonly string[];
}

export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubernetesObject>>();

  constructor(private readonly options: InformerFactoryOptions) {}

  static fromConnection(
    connection: Connection | KubeConfig,
    logger: Logger,
    metrics?: OperatorMetrics,
    namespaces?: readonly string[],
  ): InformerFactory {
    return new InformerFactory({
      rest: new HttpKubeRest(connection),
      watcher: new HttpWatcher(connection),
      logger,
      metrics,
      namespaces,
    });
  }

  /**
   * The informer of `path` (a cluster-wide collection path, narrowed to the factory's namespaces) with
   * `labelSelector`, created on first use; `transform` (given at creation) replaces the default of
   * dropping managedFields from cached objects.
   */
  informer<T extends KubernetesObject>(
    path: string,
    labelSelector?: string,
    transform?: (obj: T) => T,
  ): Informer<T> {
    const id = `${path}?${labelSelector ?? ''}`;
    let informer = this.informers.get(id);
    if (informer === undefined) {
      const { rest, watcher, logger, metrics, clock, namespaces } = this.options;
      informer = new Informer<KubernetesObject>({
        path,
        namespaces,
        labelSelector,
        rest,
        watcher,
        logger,
        clock,
        onRestart: (resource) => metrics?.informerRestarts.inc({ resource }),
        transform: transform as ((obj: KubernetesObject) => KubernetesObject) | undefined,
      });
      this.informers.set(id, informer);
    }
    return informer as unknown as Informer<T>;
  }

  start(): void {
    for (const informer of this.informers.values()) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  /** True when every informer has completed its first list. */
  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** Resolves once every informer has synced; false if `signal` aborted first. */
  async waitForSync(signal?: AbortSignal, pollMs = 100): Promise<boolean> {
    const clock = this.options.clock ?? systemClock;
    while (!this.hasSynced()) {
      if (signal?.aborted === true) return false;
      await sleep(clock, pollMs, signal);
    }
    return true;
  }
}
