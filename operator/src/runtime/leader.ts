/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm and defaults (lease 15 s,
 * renew deadline 10 s, retry 2 s), so two replicas can run and only one reconciles.
 *
 * Expiry is judged by this process's own clock from the moment it last saw the lease record change,
 * never by comparing `renewTime` with local time, so clock skew between nodes cannot cause two leaders.
 * Writes are PUTs carrying the resourceVersion read, so of two racing candidates one gets 409 Conflict.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '#common/logger.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { isAlreadyExists, isConflict, isNotFound, resourcePath, type KubeRest } from './rest.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** What this candidate last saw of the lease, and when (by its own clock). */
export interface Observation {
  record: string;
  atMs: number;
}

export interface LeaderElectorOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  logger: Logger;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  /** Told about every change of leadership (e.g. for the `helloworld_leader` gauge). */
  onLeaderChange?: (leading: boolean) => void;
}

export interface LeaderCallbacks {
  /** This replica now leads: start the controllers. */
  onStartedLeading: () => void;
  /** The lease was lost (not released): stop at once; exiting the process is the safe choice. */
  onStoppedLeading: () => void;
}

export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RETRY_PERIOD_MS = 2_000;

export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

/** Notes the time the lease record last changed; an unchanged record keeps its old observation time. */
export function observe(
  previous: Observation | undefined,
  spec: LeaseSpec | undefined,
  nowMs: number,
): Observation {
  const record = JSON.stringify(spec ?? {});
  return previous?.record === record ? previous : { record, atMs: nowMs };
}

/**
 * Whether `identity` may take (or keep) the lease: it is free (no holder, e.g. released), ours, or its
 * holder has not renewed it for a whole lease duration as observed by us.
 */
export function shouldAcquire(
  spec: LeaseSpec | undefined,
  observedAtMs: number,
  nowMs: number,
  identity: string,
): boolean {
  const holder = spec?.holderIdentity ?? '';
  if (holder === '' || holder === identity) return true;
  const durationMs = (spec?.leaseDurationSeconds ?? 0) * 1000;
  return observedAtMs + durationMs <= nowMs;
}

/** The lease spec after `identity` acquires or renews it at `nowMs`. */
export function nextLeaseSpec(
  old: LeaseSpec | undefined,
  identity: string,
  nowMs: number,
  durationMs: number,
): LeaseSpec {
  const now = formatMicroTime(nowMs);
  const renewing = old?.holderIdentity === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.max(1, Math.ceil(durationMs / 1000)),
    acquireTime: renewing ? (old.acquireTime ?? now) : now,
    renewTime: now,
    leaseTransitions: (old?.leaseTransitions ?? 0) + (renewing || (old?.holderIdentity ?? '') === '' ? 0 : 1),
  };
}

/** The spec that hands the lease over at once: no holder, 1 s duration (as client-go's ReleaseOnCancel). */
export function releasedLeaseSpec(old: LeaseSpec | undefined, nowMs: number): LeaseSpec {
  const now = formatMicroTime(nowMs);
  return {
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: old?.leaseTransitions ?? 0,
  };
}

/** metav1.MicroTime wants exactly six fractional digits. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly identity: string;
  private readonly clock: Clock;
  private readonly path: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly stopSignal = new AbortController();
  private observation: Observation | undefined;
  private leading = false;
  private running: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.identity = options.identity ?? defaultIdentity();
    this.clock = options.clock ?? systemClock;
    this.leaseDurationMs = options.leaseDurationMs ?? LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? RETRY_PERIOD_MS;
    this.path = resourcePath(
      { apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true },
      options.namespace,
      options.name,
    );
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until elected, then renews until the lease is lost or `release` is called. */
  run(callbacks: LeaderCallbacks): Promise<void> {
    this.running ??= this.campaign(callbacks);
    return this.running;
  }

  /** Stops campaigning or renewing and, if leading, frees the lease so another replica takes over now. */
  async release(): Promise<void> {
    this.stopSignal.abort();
    await this.running;
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.options.rest.request<Lease>('GET', this.path);
      if (lease.spec?.holderIdentity !== this.identity) return;
      lease.spec = releasedLeaseSpec(lease.spec, this.clock.now());
      await this.options.rest.request('PUT', this.path, { body: lease });
      this.options.logger.info({ lease: this.options.name }, 'released the leader lease');
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not release the leader lease; it will expire');
    }
  }

  private async campaign(callbacks: LeaderCallbacks): Promise<void> {
    const signal = this.stopSignal.signal;
    const stopped = (): boolean => signal.aborted;
    const log = this.options.logger.child({ lease: `${this.options.namespace}/${this.options.name}` });
    log.info({ identity: this.identity }, 'waiting to become leader');
    while (!(await this.tryAcquireOrRenew(log))) {
      if (stopped()) return;
      await sleep(this.clock, jitter(this.retryPeriodMs), signal);
      if (stopped()) return;
    }
    this.setLeading(true); // even when stopping now: `release` must free what was just acquired
    if (stopped()) return;
    log.info({ identity: this.identity }, 'became leader');
    callbacks.onStartedLeading();
    let lastRenewMs = this.clock.now();
    for (;;) {
      await sleep(this.clock, this.retryPeriodMs, signal);
      if (stopped()) return;
      if (await this.tryAcquireOrRenew(log)) {
        lastRenewMs = this.clock.now();
      } else if (this.clock.now() - lastRenewMs >= this.renewDeadlineMs) {
        this.setLeading(false);
        log.error({ identity: this.identity }, 'lost the leader lease');
        callbacks.onStoppedLeading();
        return;
      }
    }
  }

  /** One attempt; true when this candidate holds the lease afterwards. Errors count as "no". */
  private async tryAcquireOrRenew(log: Logger): Promise<boolean> {
    const { rest } = this.options;
    const now = this.clock.now();
    try {
      let lease: Lease;
      try {
        lease = await rest.request<Lease>('GET', this.path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        const created: Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.options.name, namespace: this.options.namespace },
          spec: nextLeaseSpec(undefined, this.identity, now, this.leaseDurationMs),
        };
        const collection = this.path.slice(0, this.path.lastIndexOf('/'));
        const result = await rest.request<Lease>('POST', collection, { body: created });
        this.observation = observe(undefined, result.spec, now);
        return true;
      }
      this.observation = observe(this.observation, lease.spec, now);
      if (!shouldAcquire(lease.spec, this.observation.atMs, now, this.identity)) return false;
      lease.spec = nextLeaseSpec(lease.spec, this.identity, now, this.leaseDurationMs);
      const result = await rest.request<Lease>('PUT', this.path, { body: lease });
      this.observation = observe(this.observation, result.spec, now);
      return true;
    } catch (error) {
      if (isConflict(error) || isAlreadyExists(error)) return false; // another candidate won this round
      log.warn({ err: error }, 'leader lease request failed');
      return false;
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.options.onLeaderChange?.(leading);
  }
}

/** Up to 20% more, so candidates that started together do not retry in lockstep. */
function jitter(ms: number): number {
  return ms * (1 + Math.random() * 0.2);
}
