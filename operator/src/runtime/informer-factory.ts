/**
 * One shared informer per watched resource, created, started, synced and stopped together; all of them
 * cluster-wide, or all in the same namespaces when the operator is scoped to some.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '#common/logger.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { Informer, type Watcher } from './informer.js';
import type { RuntimeMetrics } from './metrics.js';
import type { Connection } from './connection.js';
import { HttpKubeRest, type KubeRest } from './rest.js';
import { HttpWatcher } from './watch.js';

export interface InformerFactoryOptions {
  rest: KubeRest;
  watcher: Watcher;
  logger: Logger;
  metrics?: RuntimeMetrics;
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
    metrics?: RuntimeMetrics,
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
