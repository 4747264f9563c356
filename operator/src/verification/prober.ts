/**
 * Probe traffic, the I/O part: a timer that sends what ProbeSchedule says is due, GET /hello/smokecheck
 * through whichever PodHttp reaches the pods (the API server's proxy in the operator). Reconciles only
 * place orders and read counts, never wait: the traffic runs here, beside the background verification.
 */
import type { PodHttp } from './pod-http.js';
import { PROBE_LIMITS, ProbeSchedule, type ProbeLimits } from './probe-schedule.js';
import type { PodRef, Prober } from './types.js';

/**
 * A read of the smoke checks' user: it exercises the whole /hello path (store lookup, date arithmetic)
 * and writes nothing. Without the default checks the user may not exist; a 404 is still a /hello request
 * the pod times and counts, and 4xx answers are not errors to the analysis.
 */
export const PROBE_PATH = '/hello/smokecheck';
/** One probe waits at most this long; a pod slower than that holds at most maxInFlightPerPod sockets. */
export const PROBE_TIMEOUT_MS = 5000;
/** How often due probes are sent: fine enough for the highest rate (10 per second). */
const TICK_MS = 100;

/** What became of a probe: the pod answered, nothing (or the API server) answered, or a bound skipped it. */
export type ProbeOutcome = 'answered' | 'unanswered' | 'skipped';

export interface ProberOptions {
  now?: () => number;
  /** Counts probes by outcome, for the operator's metrics. */
  onProbe?: (outcome: ProbeOutcome, count: number) => void;
  limits?: ProbeLimits;
  tickMs?: number;
}

export interface RunningProber extends Prober {
  /** Probes awaiting an answer, for tests and metrics. */
  inFlight(): number;
  /** The probes not sent for `key` because a bound was reached. */
  skipped(key: string): number;
  /** Stops every order and the timer. */
  close(): void;
}

export function createProber(http: PodHttp, options: ProberOptions = {}): RunningProber {
  const now = options.now ?? Date.now;
  const schedule = new ProbeSchedule(now(), options.limits ?? PROBE_LIMITS);
  const tickMs = options.tickMs ?? TICK_MS;
  let timer: NodeJS.Timeout | undefined;

  const count = options.onProbe ?? (() => undefined);
  const settle = (key: string, pod: PodRef, answered: boolean): void => {
    schedule.settled(key, pod, answered);
    count(answered ? 'answered' : 'unanswered', 1);
  };

  function tick(): void {
    const skippedBefore = schedule.skippedTotal;
    for (const { key, pod } of schedule.due(now())) {
      http.request(pod, { method: 'GET', path: PROBE_PATH, timeoutMs: PROBE_TIMEOUT_MS }).then(
        (response) => {
          settle(key, pod, response.proxyError === undefined);
        },
        () => {
          settle(key, pod, false);
        },
      );
    }
    if (schedule.skippedTotal > skippedBefore) count('skipped', schedule.skippedTotal - skippedBefore);
    if (schedule.active() === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    set(key, order) {
      schedule.set(key, order, now());
      if (timer === undefined && schedule.active() > 0) {
        timer = setInterval(tick, tickMs);
        timer.unref(); // probes never keep the process alive
      }
    },
    takeAnswered: (key) => schedule.takeAnswered(key),
    inFlight: () => schedule.inFlight(),
    skipped: (key) => schedule.skipped(key),
    close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
