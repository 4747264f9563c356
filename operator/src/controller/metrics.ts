/** The operator's Prometheus metrics: the runtime's, named `helloworld_*`, and the rollout's own. */
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import { KINDS } from '../crd/kinds.js';
import { RuntimeMetrics } from '../runtime/metrics.js';

export class OperatorMetrics extends RuntimeMetrics {
  readonly rollbacks: Counter<'reason'>;
  readonly rolledBack: Gauge<'namespace' | 'name' | 'reason'>;

  constructor(registry?: Registry) {
    super({ prefix: 'helloworld', kind: KINDS.HelloWorld.kind, registry });
    const registers = [this.registry];
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
  }
}
