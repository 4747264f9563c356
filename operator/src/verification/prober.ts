/**
 * Probe traffic, the I/O part: a timer that sends what ProbeSchedule says is due, GET /hello/smokecheck
 * through whichever PodHttp reaches the pods (the API server's proxy in the operator). Reconciles only
 * place orders and read counts, never wait: the traffic runs here, beside the background verification.
 */
import type { PodHttp } from './pod-http.js';
import { PROBE_LIMITS, ProbeSchedule, type ProbeLimits } from './probe-schedule.js';
import type { Prober } from './types.js';

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

export interface ProberOptions {
  now?: () => number;
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

  function tick(): void {
    for (const { key, pod } of schedule.due(now())) {
      http.request(pod, { method: 'GET', path: PROBE_PATH, timeoutMs: PROBE_TIMEOUT_MS }).then(
        (response) => {
          schedule.settled(key, pod, response.proxyError === undefined);
        },
        () => {
          schedule.settled(key, pod, false);
        },
      );
    }
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
