/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm and defaults (lease 15 s,
 * renew deadline 10 s, retry 2 s), so two replicas can run and only one reconciles.
 *
 * Expiry is judged by this process's own clock from the moment it last saw the lease record change,
 * never by comparing `renewTime` with local time, so clock skew between nodes cannot cause two leaders.
 * Writes are PUTs carrying the resourceVersion read, so of two racing candidates one gets 409 Conflict.
 *
 * The leader may write only while its last renewal was *sent* less than the renew deadline ago, which
 * ends at least (lease duration - renew deadline) before any other candidate may acquire. `writeGate()`
 * checks that from the clocks at each write, and a timer ends leadership at the deadline when nothing
 * writes (see docs/operator-runtime.md, "Cannot split-brain").
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '#common/logger.js';
import { sleep, systemClock, type Clock, type TimerHandle } from './clock.js';
import { isAlreadyExists, isConflict, isNotFound, resourcePath, type KubeRest } from './rest.js';
import { LeadershipLostError, type WriteGate } from './write-gate.js';

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
  /** Told about every change of leadership (e.g. for the `<prefix>_leader` gauge). */
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
/**
 * How much longer the lease lasts than the leader's renew deadline, at least: the time a write that
 * passed the gate just before the deadline may need to reach the API server, and clock rate drift.
 */
export const MIN_LEASE_MARGIN_MS = 1_000;

export interface LeaseTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** Why these timings could elect two leaders or flap, in words; undefined when they are sound. */
export function leaseTimingProblem(t: LeaseTimings): string | undefined {
  if (t.leaseDurationMs % 1000 !== 0) {
    return `the lease duration (${String(t.leaseDurationMs)} ms) must be whole seconds, as the Lease records it`;
  }
  if (t.leaseDurationMs < t.renewDeadlineMs + MIN_LEASE_MARGIN_MS) {
    return (
      `the lease duration (${String(t.leaseDurationMs)} ms) must exceed the renew deadline ` +
      `(${String(t.renewDeadlineMs)} ms) by at least ${String(MIN_LEASE_MARGIN_MS)} ms, or a leader ` +
      'that cannot renew could still be writing when another replica takes the lease'
    );
  }
  if (t.renewDeadlineMs < 2 * t.retryPeriodMs * 1.2) {
    return (
      `the renew deadline (${String(t.renewDeadlineMs)} ms) must allow two renewal attempts, ` +
      `at least 2.4 times the retry period (${String(t.retryPeriodMs)} ms)`
    );
  }
  return undefined;
}

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

/** When a renewal was last sent, on both clocks: a deadline passes when either says so. */
interface Renewal {
  monotonicMs: number;
  wallMs: number;
}

type Attempt = 'held' | 'taken' | 'failed';

export class LeaderElector {
  readonly identity: string;
  private readonly clock: Clock;
  private readonly path: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly stopSignal = new AbortController();
  /** Aborted when writing must end: leadership lost or released. Never re-armed: the process exits. */
  private readonly writes = new AbortController();
  private readonly gate: WriteGate;
  private observation: Observation | undefined;
  private leading = false;
  /** Sent (not answered) time of the last successful acquire or renew request. */
  private renewal: Renewal | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private callbacks: LeaderCallbacks | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.identity = options.identity ?? defaultIdentity();
    this.clock = options.clock ?? systemClock;
    this.leaseDurationMs = options.leaseDurationMs ?? LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? RETRY_PERIOD_MS;
    const problem = leaseTimingProblem({
      leaseDurationMs: this.leaseDurationMs,
      renewDeadlineMs: this.renewDeadlineMs,
      retryPeriodMs: this.retryPeriodMs,
    });
    if (problem !== undefined) throw new Error(`leader election: ${problem}`);
    this.path = resourcePath(
      { apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true },
      options.namespace,
      options.name,
    );
    this.gate = {
      signal: this.writes.signal,
      check: () => {
        if (this.mayWrite()) return;
        // Found here before the deadline timer had its turn (e.g. just after SIGCONT): lose it now.
        if (this.leading && !this.writes.signal.aborted) this.loseLeadership('the renew deadline passed');
        throw new LeadershipLostError(
          `${this.identity} does not hold the leader lease ${this.options.namespace}/${this.options.name}; write refused`,
        );
      },
    };
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * True while this replica leads and its last renewal was sent less than the renew deadline ago. Read
   * at call time from the clocks, so it holds even when timers are late (after SIGSTOP/SIGCONT).
   */
  mayWrite(): boolean {
    return this.leading && !this.writes.signal.aborted && this.sinceRenewalMs() < this.renewDeadlineMs;
  }

  /** The gate the controller's writes must pass (write-gate.ts). */
  writeGate(): WriteGate {
    return this.gate;
  }

  /** Campaigns until elected, then renews until the lease is lost or `release` is called. */
  run(callbacks: LeaderCallbacks): Promise<void> {
    this.callbacks ??= callbacks;
    this.running ??= this.campaign(callbacks);
    return this.running;
  }

  /** Stops campaigning or renewing and, if leading, frees the lease so another replica takes over now. */
  async release(): Promise<void> {
    this.writes.abort(new LeadershipLostError('the leader lease is being released'));
    this.stopSignal.abort();
    await this.running;
    this.clearDeadline();
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.options.rest.request<Lease>('GET', this.path, {
        timeoutMs: this.requestTimeoutMs(),
      });
      if (lease.spec?.holderIdentity !== this.identity) return;
      lease.spec = releasedLeaseSpec(lease.spec, this.clock.now());
      await this.options.rest.request('PUT', this.path, { body: lease, timeoutMs: this.requestTimeoutMs() });
      this.options.logger.info({ lease: this.options.name }, 'released the leader lease');
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not release the leader lease; it will expire');
    }
  }

  private async campaign(callbacks: LeaderCallbacks): Promise<void> {
    const signal = this.stopSignal.signal;
    const stopped = (): boolean => signal.aborted;
    const log = this.log();
    log.info({ identity: this.identity }, 'waiting to become leader');
    while ((await this.tryAcquireOrRenew(log)) !== 'held') {
      if (stopped()) return;
      await sleep(this.clock, jitter(this.retryPeriodMs), signal);
      if (stopped()) return;
    }
    this.setLeading(true); // even when stopping now: `release` must free what was just acquired
    if (stopped()) return;
    if (!this.mayWrite()) {
      this.loseLeadership('the acquiring request took longer than the renew deadline');
      return;
    }
    log.info({ identity: this.identity }, 'became leader');
    this.armDeadline();
    callbacks.onStartedLeading();
    while (this.leading) {
      await sleep(this.clock, this.retryPeriodMs, signal);
      if (stopped()) return; // also after a loss: loseLeadership aborts the stop signal
      if (!this.mayWrite()) {
        this.loseLeadership('the renew deadline passed');
        return;
      }
      const attempt = await this.tryAcquireOrRenew(log);
      if (stopped()) return;
      if (attempt === 'taken') this.loseLeadership('another replica holds the lease');
    }
  }

  /**
   * One attempt: 'held' when this candidate holds the lease afterwards, 'taken' when another holder
   * has it, 'failed' on errors. The attempt as a whole is bounded well within the renew deadline.
   */
  private async tryAcquireOrRenew(log: Logger): Promise<Attempt> {
    const { rest } = this.options;
    const attempt = new AbortController();
    const timer = this.clock.setTimeout(() => {
      attempt.abort(new Error(`the lease request took over ${String(this.requestTimeoutMs())} ms`));
    }, this.requestTimeoutMs());
    const signal = AbortSignal.any([this.stopSignal.signal, attempt.signal]);
    try {
      let lease: Lease;
      try {
        lease = await rest.request<Lease>('GET', this.path, { signal });
      } catch (error) {
        if (!isNotFound(error)) throw error;
        const created: Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.options.name, namespace: this.options.namespace },
          spec: nextLeaseSpec(undefined, this.identity, this.clock.now(), this.leaseDurationMs),
        };
        const collection = this.path.slice(0, this.path.lastIndexOf('/'));
        const sent = this.renewalNow();
        const result = await rest.request<Lease>('POST', collection, { body: created, signal });
        this.renewed(sent, result.spec);
        return 'held';
      }
      // Observed when the answer arrived: a follower errs late, never early.
      this.observation = observe(this.observation, lease.spec, this.monotonicNow());
      if (!shouldAcquire(lease.spec, this.observation.atMs, this.monotonicNow(), this.identity))
        return 'taken';
      lease.spec = nextLeaseSpec(lease.spec, this.identity, this.clock.now(), this.leaseDurationMs);
      // Sent time, not answer time: other candidates count the lease from a moment after it.
      const sent = this.renewalNow();
      const result = await rest.request<Lease>('PUT', this.path, { body: lease, signal });
      this.renewed(sent, result.spec);
      return 'held';
    } catch (error) {
      if (isConflict(error) || isAlreadyExists(error)) return 'failed'; // another candidate won this round
      log.warn({ err: error }, 'leader lease request failed');
      return 'failed';
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private renewed(sent: Renewal, spec: LeaseSpec | undefined): void {
    this.renewal = sent;
    this.observation = observe(this.observation, spec, sent.monotonicMs);
  }

  /** The deadline timer: fires when the renew deadline would pass, and re-arms while renewals keep up. */
  private armDeadline(): void {
    this.clearDeadline();
    const remaining = this.renewDeadlineMs - this.sinceRenewalMs();
    this.deadlineTimer = this.clock.setTimeout(
      () => {
        this.deadlineTimer = undefined;
        if (!this.leading) return;
        if (this.mayWrite()) this.armDeadline();
        else this.loseLeadership('the renew deadline passed');
      },
      Math.max(0, remaining),
    );
  }

  private clearDeadline(): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  /** Ends leadership at once: writes refused and aborted, renewals stopped, the owner told. */
  private loseLeadership(reason: string): void {
    if (!this.leading) return;
    this.setLeading(false);
    this.writes.abort(new LeadershipLostError(`lost the leader lease: ${reason}`));
    this.stopSignal.abort();
    this.clearDeadline();
    this.log().error({ identity: this.identity, reason }, 'lost the leader lease');
    this.callbacks?.onStoppedLeading();
  }

  /** Elapsed since the last renewal was sent, by whichever clock says more (a wall clock may jump). */
  private sinceRenewalMs(): number {
    if (this.renewal === undefined) return Infinity;
    return Math.max(this.monotonicNow() - this.renewal.monotonicMs, this.clock.now() - this.renewal.wallMs);
  }

  private renewalNow(): Renewal {
    return { monotonicMs: this.monotonicNow(), wallMs: this.clock.now() };
  }

  private monotonicNow(): number {
    return this.clock.monotonic?.() ?? this.clock.now();
  }

  /** Each lease request (and a whole attempt) ends within half the renew deadline. */
  private requestTimeoutMs(): number {
    return Math.floor(this.renewDeadlineMs / 2);
  }

  private log(): Logger {
    return this.options.logger.child({ lease: `${this.options.namespace}/${this.options.name}` });
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
