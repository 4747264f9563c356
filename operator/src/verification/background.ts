/**
 * Verification off the reconcile workers. Pods that answer slowly, or never, would otherwise hold a
 * worker for a whole smoke run or sample, and a few such HelloWorlds would stall every other one. Here
 * a smoke run or a sample starts as a background job; the reconcile that asked waits a moment for it
 * (a healthy pod answers in milliseconds), and otherwise gets VerificationPending, requeues, and picks
 * the result up on a later reconcile. Jobs end by their own overall deadlines; results nobody picks up
 * expire. Only memory: after a restart, the next reconcile starts the job again.
 */
import type { ResolvedSmokeCheck } from '../crd/defaults.js';
import type { HelloSample } from '../crd/types.js';
import type { PodRef, SmokeResult, Verifier } from './types.js';

/** The job runs on; the reconcile should look again in a little while. Not a failure. */
export class VerificationPending extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationPending';
  }
}

export interface BackgroundOptions {
  /** How long a reconcile waits for a job it started before it moves on. */
  inlineWaitMs?: number;
  /** Jobs running at once, over every HelloWorld; more wait for a free slot. */
  maxJobs?: number;
  /**
   * Jobs running at once for one namespace (one tenant), so a tenant whose pods hang holds at most this
   * share of the slots and the others keep theirs.
   */
  maxJobsPerNamespace?: number;
  /** How long a finished job's result waits to be picked up. */
  resultTtlMs?: number;
  now?: () => number;
}

export const INLINE_WAIT_MS = 1000;
export const MAX_JOBS = 16;
export const MAX_JOBS_PER_NAMESPACE = 4;
const RESULT_TTL_MS = 5 * 60_000;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Job {
  readonly namespace: string;
  readonly done: Promise<void>;
  outcome?: Outcome<unknown>;
  finishedAt?: number;
}

export interface BackgroundVerifier extends Verifier {
  /** Jobs still running (of one namespace when given), for tests and metrics. */
  running(namespace?: string): number;
}

export function backgroundVerifier(inner: Verifier, options: BackgroundOptions = {}): BackgroundVerifier {
  const inlineWaitMs = options.inlineWaitMs ?? INLINE_WAIT_MS;
  const maxJobs = options.maxJobs ?? MAX_JOBS;
  const maxPerNamespace = options.maxJobsPerNamespace ?? MAX_JOBS_PER_NAMESPACE;
  const ttlMs = options.resultTtlMs ?? RESULT_TTL_MS;
  const now = options.now ?? Date.now;
  const jobs = new Map<string, Job>();
  const running = (namespace?: string): number =>
    [...jobs.values()].filter(
      (job) => job.outcome === undefined && (namespace === undefined || job.namespace === namespace),
    ).length;

  function sweep(): void {
    for (const [key, job] of jobs) {
      if (job.finishedAt !== undefined && now() - job.finishedAt > ttlMs) jobs.delete(key);
    }
  }

  function collect(key: string, outcome: Outcome<unknown>): unknown {
    jobs.delete(key);
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }

  /** The job's result if it is done (or finishes within the inline wait); else VerificationPending. */
  async function run<T>(key: string, namespace: string, what: string, start: () => Promise<T>): Promise<T> {
    sweep();
    let job = jobs.get(key);
    if (job?.outcome !== undefined) return collect(key, job.outcome) as T;
    if (job !== undefined) throw new VerificationPending(`${what} still running`);
    if (running() >= maxJobs) {
      throw new VerificationPending(`${what} waiting for a free verification slot (${maxJobs} busy)`);
    }
    if (running(namespace) >= maxPerNamespace) {
      throw new VerificationPending(
        `${what} waiting for a free verification slot (namespace ${namespace} has ${maxPerNamespace} running)`,
      );
    }
    const created: Job = {
      namespace,
      done: start().then(
        (value) => {
          settle({ ok: true, value });
        },
        (error: unknown) => {
          settle({ ok: false, error });
        },
      ),
    };
    function settle(outcome: Outcome<unknown>): void {
      created.outcome = outcome;
      created.finishedAt = now();
    }
    job = created;
    jobs.set(key, job);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, inlineWaitMs)));
    await Promise.race([job.done, waited]);
    clearTimeout(timer);
    if (job.outcome !== undefined) return collect(key, job.outcome) as T;
    throw new VerificationPending(`${what} running in the background`);
  }

  return {
    smoke: (pods: PodRef[], checks: ResolvedSmokeCheck[]): Promise<SmokeResult> =>
      run(jobKey('smoke', pods, checks), namespaceOf(pods), 'smoke tests', () => inner.smoke(pods, checks)),
    sample: (pods: PodRef[]): Promise<HelloSample> =>
      run(jobKey('sample', pods), namespaceOf(pods), 'metrics sample', () => inner.sample(pods)),
    // Its own timer already keeps probe traffic off the reconcile workers.
    ...(inner.prober !== undefined && { prober: inner.prober }),
    running,
  };
}

/** The pods of one HelloWorld share its namespace. */
function namespaceOf(pods: readonly PodRef[]): string {
  return pods[0]?.namespace ?? '';
}

/** Same pods and checks, same job: a changed spec or pod set starts a new one. */
function jobKey(kind: string, pods: readonly PodRef[], checks?: readonly ResolvedSmokeCheck[]): string {
  const names = pods.map((pod) => `${pod.namespace}/${pod.name}:${pod.port}`).sort();
  return JSON.stringify([kind, names, checks ?? null]);
}
