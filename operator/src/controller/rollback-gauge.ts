/**
 * `helloworld_rolled_back{namespace,name,reason}`: 1 while a HelloWorld runs the revision it was rolled
 * back to, by the reason of that rollback; no series otherwise. The per-HelloWorld rollback alert of the
 * generated PrometheusRule reads it.
 */
import type { Gauge } from 'prom-client';

export class RolledBackGauge {
  /** `namespace/name` → the reason its series carries now. */
  private readonly current = new Map<string, string>();

  constructor(private readonly gauge: Gauge<'namespace' | 'name' | 'reason'>) {}

  /** The reason of the rollback in force, or undefined when the HelloWorld is not rolled back (or gone). */
  report(namespace: string, name: string, reason: string | undefined): void {
    const key = `${namespace}/${name}`;
    const before = this.current.get(key);
    if (before === reason) return;
    if (before !== undefined) this.gauge.remove({ namespace, name, reason: before });
    if (reason === undefined) {
      this.current.delete(key);
      return;
    }
    this.gauge.set({ namespace, name, reason }, 1);
    this.current.set(key, reason);
  }
}
