/**
 * The gate every API write of the controller passes: with leader election, only a replica whose last
 * lease renewal is younger than the renew deadline may write (leader.ts decides). The gate is checked
 * synchronously on each write, once when it is asked for and again at the moment its bytes leave
 * (rest.ts `beforeSend`), and its signal aborts writes in flight when leadership ends.
 *
 * A timer alone is not enough: a process resumed after SIGSTOP (or a long pause) runs pending I/O
 * callbacks and queued work before its late timers fire, so the time is read at write time.
 */
import type { KubeRest, RequestOptions, Verb } from './rest.js';

export interface WriteGate {
  /** Throws `LeadershipLostError` when this process may not write now. Synchronous, cheap. */
  check(): void;
  /** Aborted, for good, when this process stops being allowed to write. */
  readonly signal: AbortSignal;
}

export class LeadershipLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeadershipLostError';
  }
}

/** A gate that is always open: a single replica run without leader election. */
export const openGate: WriteGate = { check: () => undefined, signal: new AbortController().signal };

const READ_VERBS: ReadonlySet<Verb> = new Set(['GET']);

/** `rest` whose writes (every verb but GET) pass `gate`; reads and watches are never gated. */
export function gateWrites(rest: KubeRest, gate: WriteGate): KubeRest {
  return {
    // async: a refusal is a rejection; the check still runs synchronously, when the call is made.
    async request<T>(verb: Verb, path: string, options: RequestOptions = {}): Promise<T> {
      if (READ_VERBS.has(verb)) return rest.request<T>(verb, path, options);
      gate.check();
      const { signal, beforeSend } = options;
      return rest.request<T>(verb, path, {
        ...options,
        signal: signal === undefined ? gate.signal : AbortSignal.any([signal, gate.signal]),
        beforeSend: () => {
          gate.check();
          beforeSend?.();
        },
      });
    },
  };
}
