/**
 * The operator's Prometheus metrics, created once per process on its own registry and passed to the
 * parts that update them (no global registry, so tests create as many as they like).
 */
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createRegistry } from '#common/metrics.js';

export type ReconcileResult = 'success' | 'error' | 'requeue';

export class OperatorMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'result'>;
  readonly reconcileDuration: Histogram;
  readonly workqueueDepth: Gauge;
  readonly workqueueRetries: Counter;
  readonly rollbacks: Counter<'reason'>;
  readonly rolledBack: Gauge<'namespace' | 'name' | 'reason'>;
  readonly kubeWrites: Counter<'verb' | 'kind'>;
  readonly leader: Gauge;
  readonly informerRestarts: Counter<'resource'>;

  constructor(registry: Registry = createRegistry()) {
    this.registry = registry;
    const registers = [registry];
    this.reconcileTotal = new Counter({
      name: 'helloworld_reconcile_total',
      help: 'Reconciles of HelloWorld resources, by result.',
      labelNames: ['result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'helloworld_reconcile_duration_seconds',
      help: 'Time spent in one reconcile of a HelloWorld.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.workqueueDepth = new Gauge({
      name: 'helloworld_workqueue_depth',
      help: 'HelloWorld keys waiting to be reconciled.',
      registers,
    });
    this.workqueueRetries = new Counter({
      name: 'helloworld_workqueue_retries_total',
      help: 'Reconciles retried with backoff after an error.',
      registers,
    });
    this.rollbacks = new Counter({
      name: 'helloworld_rollbacks_total',
      help: 'Automatic rollbacks, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.rolledBack = new Gauge({
      name: 'helloworld_rolled_back',
      help: '1 while the HelloWorld runs a revision it was rolled back to, by the reason of the rollback.',
      labelNames: ['namespace', 'name', 'reason'],
      registers,
    });
    this.kubeWrites = new Counter({
      name: 'helloworld_kube_writes_total',
      help: 'Writes to the Kubernetes API, by verb and kind.',
      labelNames: ['verb', 'kind'],
      registers,
    });
    this.leader = new Gauge({
      name: 'helloworld_leader',
      help: '1 while this replica holds the leader lease, else 0.',
      registers,
    });
    this.informerRestarts = new Counter({
      name: 'helloworld_informer_restarts_total',
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
  observeReconcile(result: ReconcileResult, seconds: number): void {
    this.reconcileTotal.inc({ result });
    this.reconcileDuration.observe(seconds);
  }
}
