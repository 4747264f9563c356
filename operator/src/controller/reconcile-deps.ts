/** What a reconcile reads, writes and reports through: the edges reconcile.ts is given. */
import type { BackupStatus, DryRunCheck } from '../crd/types.js';
import type { Verifier } from '../verification/types.js';
import type { EventSink } from '../runtime/events.js';
import type { KubeWriter } from '../runtime/kube.js';
import type { Notifier } from '../notify/reconcile-step.js';
import type { ClusterReader } from './cluster-reader.js';
import type { StatusWrites } from './status-writes.js';

export interface ReconcileDeps {
  reader: ClusterReader;
  writer: KubeWriter;
  /** The status writes the informer has not delivered yet; reconciles judge the status as stored. */
  statusWrites: StatusWrites;
  events: EventSink;
  verifier: Verifier;
  /** Whether the Prometheus Operator's CRDs are installed (ServiceMonitor, PrometheusRule). */
  prometheusOperatorInstalled: () => boolean;
  now: () => Date;
  onRollback?: (reason: string) => void;
  /** A dry-run check would have failed a verification (once per verification and check). */
  onDryRunFailure?: (namespace: string, name: string, check: DryRunCheck) => void;
  /**
   * The backups of a HelloWorld's managed Redis (undefined: none asked, or the HelloWorld is gone) and
   * since when they are asked for (the backup CronJob's creation), for the backup metrics.
   */
  onBackup?: (
    namespace: string,
    name: string,
    status: BackupStatus | undefined,
    since: Date | undefined,
  ) => void;
  /** The reason of the rollback a HelloWorld runs on now; undefined when it is not rolled back or gone. */
  onRolledBack?: (namespace: string, name: string, reason: string | undefined) => void;
  /** Rollout transitions to webhooks (notify/); none when absent. */
  notifier?: Notifier;
}
