/**
 * Whether the Prometheus Operator's CRDs are installed, found through API discovery (no RBAC needed)
 * and looked at again every minute, so installing the Prometheus Operator later, or removing it, is
 * picked up without a restart. A failed look-up keeps the last answer.
 */
import type { Logger } from '#common/logger.js';
import { MONITORING_API_VERSION, MONITORING_KINDS } from '../builders/monitoring.js';
import { groupVersionPath, isNotFound, type KubeRest } from '../runtime/rest.js';

const REQUIRED = MONITORING_KINDS.map((kind) => kind.plural);
export const DISCOVERY_INTERVAL_MS = 60_000;

export interface DiscoveryHandlers {
  /** The CRDs are seen for the first time: start what follows their kinds (informers). */
  firstInstalled(): void;
  /** The CRDs came or went: every HelloWorld's Monitoring condition and children depend on it. */
  changed(present: boolean): void;
}

export class PrometheusOperatorDiscovery {
  private presentNow = false;
  private installedOnce = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rest: KubeRest,
    private readonly logger: Logger,
    private readonly handlers: DiscoveryHandlers,
  ) {}

  present(): boolean {
    return this.presentNow;
  }

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), DISCOVERY_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    try {
      const list = await this.rest.request<{ resources: { name: string }[] }>(
        'GET',
        groupVersionPath(MONITORING_API_VERSION),
      );
      const names = new Set(list.resources.map((r) => r.name));
      this.update(REQUIRED.every((r) => names.has(r)));
    } catch (error) {
      if (isNotFound(error)) this.update(false);
      else this.logger.warn({ err: error }, 'could not discover the Prometheus Operator');
    }
  }

  private update(present: boolean): void {
    if (present === this.presentNow) return;
    this.presentNow = present;
    if (present) {
      this.logger.info("the Prometheus Operator's CRDs are installed; generating monitoring objects");
      // The informers, once started, follow the kinds coming and going on their own.
      if (!this.installedOnce) {
        this.installedOnce = true;
        this.handlers.firstInstalled();
      }
    } else {
      this.logger.warn("the Prometheus Operator's CRDs are gone; no longer generating monitoring objects");
    }
    this.handlers.changed(present);
  }
}
