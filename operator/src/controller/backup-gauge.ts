/**
 * The backup metrics of each HelloWorld with spec.redis.backup, read by the operator's alerts
 * (config/monitoring/operator-rules.yaml): when the newest backup succeeded (until the first one, when
 * backups were switched on), its size, whether the newest one failed, and how old the newest may be.
 * No series for a HelloWorld without backups, or gone.
 */
import type { Gauge } from 'prom-client';
import type { BackupStatus } from '../crd/types.js';

export interface BackupGauges {
  lastSuccess: Gauge<'namespace' | 'name'>;
  sizeBytes: Gauge<'namespace' | 'name'>;
  failing: Gauge<'namespace' | 'name'>;
  maxAge: Gauge<'namespace' | 'name'>;
}

export function reportBackup(
  gauges: BackupGauges,
  namespace: string,
  name: string,
  status: BackupStatus | undefined,
  since: Date | undefined,
): void {
  const labels = { namespace, name };
  const successAt = status?.lastSuccessTime !== undefined ? new Date(status.lastSuccessTime) : since;
  if (status === undefined || successAt === undefined) {
    for (const gauge of [gauges.lastSuccess, gauges.sizeBytes, gauges.failing, gauges.maxAge])
      gauge.remove(labels);
    return;
  }
  gauges.lastSuccess.set(labels, successAt.getTime() / 1000);
  gauges.sizeBytes.set(labels, status.lastSizeBytes ?? 0);
  gauges.failing.set(labels, status.lastFailureTime !== undefined ? 1 : 0);
  if (status.maxAgeSeconds !== undefined) gauges.maxAge.set(labels, status.maxAgeSeconds);
  else gauges.maxAge.remove(labels);
}
