/**
 * Probe traffic, the pure part: when an analysis interval needs probes, and which probe goes to which pod
 * when, under hard bounds. No I/O and no timers: prober.ts sends what `due` returns and reports back with
 * `settled`; tests drive it with an injected clock.
 */
import type { ResolvedSpec } from '../crd/defaults.js';
import { podName } from './pod-http.js';
import type { PodRef, ProbeOrder } from './types.js';
import { podsToSample } from './verifier.js';

export type ProbePolicy = ResolvedSpec['rollout']['verification']['analysis']['probe'];

/** What the last measured interval saw: every /hello request the pods counted, and how many were probes. */
export interface IntervalTraffic {
  requests: number;
  probes: number;
}

/**
 * Whether the next analysis interval gets probe traffic: before the first measurement (nothing says
 * organic traffic will come), and whenever the last interval had fewer organic requests than minRequests.
 */
export function probeNextInterval(policy: ProbePolicy, last: IntervalTraffic | undefined): boolean {
  if (!policy.enabled) return false;
  if (last === undefined) return true;
  return last.requests - last.probes < policy.minRequests;
}

/** Hard bounds over every order, whatever the HelloWorlds ask for. */
export interface ProbeLimits {
  /** Probes awaiting an answer from one pod; a pod at the limit is skipped, never queued for. */
  maxInFlightPerPod: number;
  /** Probes awaiting an answer, over every HelloWorld. */
  maxInFlight: number;
  /** Probes started per second for one namespace (one tenant), over all its HelloWorlds. */
  maxPerSecondPerNamespace: number;
  /** Probes started per second by the whole operator. */
  maxPerSecond: number;
}

export const PROBE_LIMITS: ProbeLimits = {
  maxInFlightPerPod: 2,
  maxInFlight: 32,
  maxPerSecondPerNamespace: 10,
  maxPerSecond: 50,
};

/** How long the answers of an ended order wait for the analysis to take them. */
const KEEP_ANSWERS_MS = 5 * 60_000;

export interface DueProbe {
  key: string;
  pod: PodRef;
}

interface Active {
  namespace: string;
  pods: PodRef[];
  ratePerSecond: number;
  until: number;
  /** When the next probe of this order is due. */
  nextAt: number;
  /** Round robin over the pods. */
  cursor: number;
  /** Probes the pods answered since the last takeAnswered. */
  answered: number;
  /** Probes not sent because a bound was reached, for the status message and tests. */
  skipped: number;
}

/** Tokens refill continuously up to one second's worth: a bound on the rate, with no backlog. */
class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = perSecond;
    this.at = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class ProbeSchedule {
  private readonly orders = new Map<string, Active>();
  private readonly inFlightByPod = new Map<string, number>();
  private readonly namespaceBuckets = new Map<string, TokenBucket>();
  private readonly bucket: TokenBucket;
  private inFlightTotal = 0;
  /** Probes skipped over every order since the start, for the operator's metric. */
  skippedTotal = 0;
  /** Which order goes first in the next tick, so no HelloWorld always gets the last of the budget. */
  private turn = 0;

  constructor(
    now: number,
    private readonly limits: ProbeLimits = PROBE_LIMITS,
  ) {
    this.bucket = new TokenBucket(limits.maxPerSecond, now);
  }

  /** Starts, updates or (undefined) stops one verification's probes; counts answered so far are kept. */
  set(key: string, order: ProbeOrder | undefined, now: number): void {
    const pods = order === undefined ? [] : podsToSample(order.pods);
    const first = pods[0];
    if (order === undefined || first === undefined || order.until <= now || order.ratePerSecond <= 0) {
      const active = this.orders.get(key);
      if (active !== undefined) active.until = now; // dropped at the next tick, after takeAnswered
      return;
    }
    const active = this.orders.get(key);
    if (active !== undefined) {
      Object.assign(active, { pods, ratePerSecond: order.ratePerSecond, until: order.until });
      return;
    }
    this.orders.set(key, {
      namespace: first.namespace,
      pods,
      ratePerSecond: order.ratePerSecond,
      until: order.until,
      nextAt: now,
      cursor: 0,
      answered: 0,
      skipped: 0,
    });
  }

  /** Probes the pods answered for `key` since the last call. */
  takeAnswered(key: string): number {
    const active = this.orders.get(key);
    if (active === undefined) return 0;
    const { answered } = active;
    active.answered = 0;
    return answered;
  }

  /** The probes to start now, each counted in flight until `settled`. */
  due(now: number): DueProbe[] {
    const keys = [...this.orders.keys()];
    const start = keys.length === 0 ? 0 : this.turn++ % keys.length;
    const out: DueProbe[] = [];
    for (const key of [...keys.slice(start), ...keys.slice(0, start)]) {
      const active = this.orders.get(key);
      if (active === undefined) continue;
      if (active.until <= now) {
        // Answers are kept for the sample that follows the order's end; nobody asking drops them.
        if (active.answered === 0 || now - active.until > KEEP_ANSWERS_MS) this.orders.delete(key);
        continue;
      }
      const periodMs = 1000 / active.ratePerSecond;
      // A late tick (a busy event loop) does not make up for lost time with a burst.
      if (now - active.nextAt > periodMs) active.nextAt = now;
      while (active.nextAt <= now) {
        active.nextAt += periodMs;
        const pod = this.start(active, now);
        if (pod === undefined) {
          active.skipped += 1;
          this.skippedTotal += 1;
        } else out.push({ key, pod });
      }
    }
    const namespaces = new Set([...this.orders.values()].map((active) => active.namespace));
    for (const namespace of this.namespaceBuckets.keys()) {
      if (!namespaces.has(namespace)) this.namespaceBuckets.delete(namespace);
    }
    return out;
  }

  /** A probe ended; `answered` when the pod itself answered (its metrics count the request). */
  settled(key: string, pod: PodRef, answered: boolean): void {
    const id = podId(pod);
    const left = (this.inFlightByPod.get(id) ?? 1) - 1;
    if (left <= 0) this.inFlightByPod.delete(id);
    else this.inFlightByPod.set(id, left);
    this.inFlightTotal = Math.max(0, this.inFlightTotal - 1);
    const active = this.orders.get(key);
    if (active !== undefined && answered) active.answered += 1;
  }

  /** Orders still sending (or with answers not yet taken). */
  active(): number {
    return this.orders.size;
  }

  inFlight(pod?: PodRef): number {
    return pod === undefined ? this.inFlightTotal : (this.inFlightByPod.get(podId(pod)) ?? 0);
  }

  skipped(key: string): number {
    return this.orders.get(key)?.skipped ?? 0;
  }

  /** The next pod with room, if every bound allows one more probe now. */
  private start(active: Active, now: number): PodRef | undefined {
    if (this.inFlightTotal >= this.limits.maxInFlight) return undefined;
    const count = active.pods.length;
    let pod: PodRef | undefined;
    for (let i = 0; i < count && pod === undefined; i++) {
      const candidate = active.pods[(active.cursor + i) % count];
      if (candidate !== undefined && this.inFlight(candidate) < this.limits.maxInFlightPerPod) {
        pod = candidate;
        active.cursor = (active.cursor + i + 1) % count;
      }
    }
    if (pod === undefined) return undefined;
    if (!this.namespaceBucket(active.namespace, now).take(now) || !this.bucket.take(now)) return undefined;
    this.inFlightByPod.set(podId(pod), this.inFlight(pod) + 1);
    this.inFlightTotal += 1;
    return pod;
  }

  private namespaceBucket(namespace: string, now: number): TokenBucket {
    let bucket = this.namespaceBuckets.get(namespace);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.limits.maxPerSecondPerNamespace, now);
      this.namespaceBuckets.set(namespace, bucket);
    }
    return bucket;
  }
}

function podId(pod: PodRef): string {
  return `${podName(pod)}:${pod.port}`;
}
