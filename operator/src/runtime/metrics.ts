/**
 * The runtime's Prometheus metrics, created once per process on its own registry and passed to the
 * parts that update them (no global registry, so tests create as many as they like). A controller
 * extends the class with its own metrics on the same registry.
 */
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createRegistry } from '#common/metrics.js';

export type ReconcileOutcome = 'success' | 'error' | 'requeue';

export interface RuntimeMetricsOptions {
  /** Prefix of every metric name, e.g. `myoperator` for `myoperator_reconcile_total`. */
  prefix: string;
  /** The kind the controller reconciles, for the help texts. */
  kind: string;
  registry?: Registry;
}

/** The metrics of the runtime's parts: reconciles, work queue, writes, leadership, informer restarts. */
export class RuntimeMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'result'>;
  readonly reconcileDuration: Histogram;
  readonly workqueueDepth: Gauge;
  readonly workqueueRetries: Counter;
  readonly kubeWrites: Counter<'verb' | 'kind'>;
  readonly leader: Gauge;
  readonly informerRestarts: Counter<'resource'>;

  constructor({ prefix, kind, registry = createRegistry() }: RuntimeMetricsOptions) {
    this.registry = registry;
    const registers = [registry];
    this.reconcileTotal = new Counter({
      name: `${prefix}_reconcile_total`,
      help: `Reconciles of ${kind} resources, by result.`,
      labelNames: ['result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: `${prefix}_reconcile_duration_seconds`,
      help: `Time spent in one reconcile of a ${kind}.`,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.workqueueDepth = new Gauge({
      name: `${prefix}_workqueue_depth`,
      help: `${kind} keys waiting to be reconciled.`,
      registers,
    });
    this.workqueueRetries = new Counter({
      name: `${prefix}_workqueue_retries_total`,
      help: 'Reconciles retried with backoff after an error.',
      registers,
    });
    this.kubeWrites = new Counter({
      name: `${prefix}_kube_writes_total`,
      help: 'Writes to the Kubernetes API, by verb and kind.',
      labelNames: ['verb', 'kind'],
      registers,
    });
    this.leader = new Gauge({
      name: `${prefix}_leader`,
      help: '1 while this replica holds the leader lease, else 0.',
      registers,
    });
    this.informerRestarts = new Counter({
      name: `${prefix}_informer_restarts_total`,
      help: 'Watch restarts after an error, by resource.',
      labelNames: ['resource'],
      registers,
    });
    // Series that exist from the start, so dashboards and alerts see zeros instead of gaps.
    for (const result of ['success', 'error', 'requeue'] as const) this.reconcileTotal.inc({ result }, 0);
    this.leader.set(0);
    this.workqueueDepth.set(0);
  }

  /** Records one finished reconcile. */
  observeReconcile(result: ReconcileOutcome, seconds: number): void {
    this.reconcileTotal.inc({ result });
    this.reconcileDuration.observe(seconds);
  }
}
