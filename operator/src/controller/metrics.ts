/** The operator's Prometheus metrics: the runtime's, named `helloworld_*`, and the rollout's own. */
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import { KINDS } from '../crd/kinds.js';
import { RuntimeMetrics } from '../runtime/metrics.js';
import type { BackupGauges } from './backup-gauge.js';

export class OperatorMetrics extends RuntimeMetrics {
  readonly rollbacks: Counter<'reason'>;
  readonly rolledBack: Gauge<'namespace' | 'name' | 'reason'>;
  readonly backup: BackupGauges;
  readonly probes: Counter<'outcome'>;
  readonly dryRunFailures: Counter<'namespace' | 'name' | 'check'>;
  readonly notifications: Counter<'outcome'>;

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
    this.probes = new Counter({
      name: 'helloworld_verification_probes_total',
      help: 'Probe requests of the analysis, by outcome: answered by the pod, unanswered, or skipped by a bound.',
      labelNames: ['outcome'],
      registers,
    });
    this.dryRunFailures = new Counter({
      name: 'helloworld_verification_dry_run_failures_total',
      help: 'Verifications a dry-run check (check: smoke, thresholds or comparison) would have failed.',
      labelNames: ['namespace', 'name', 'check'],
      registers,
    });
    this.notifications = new Counter({
      name: 'helloworld_notifications_total',
      help: 'Webhook notifications, by outcome: sent, retried (an attempt failed, another follows), failed (given up after the last attempt) or dropped (more pending than the status keeps, or a full queue).',
      labelNames: ['outcome'],
      registers,
    });
    const gauge = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: ['namespace', 'name'] as const, registers });
    this.backup = {
      lastSuccess: gauge(
        'helloworld_redis_backup_last_success_timestamp_seconds',
        'When the newest successful backup of the managed Redis finished (until the first, when backups were switched on).',
      ),
      sizeBytes: gauge('helloworld_redis_backup_size_bytes', 'Size of the newest successful backup.'),
      failing: gauge('helloworld_redis_backup_failing', '1 while the newest finished backup failed.'),
      maxAge: gauge(
        'helloworld_redis_backup_max_age_seconds',
        'How old the newest backup may be: the longest gap of the schedule plus one run.',
      ),
    };
  }
}
