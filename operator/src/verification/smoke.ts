/**
 * Smoke checks: every check against every pod of the new revision, in order, each with its own timeout and
 * retries. The first check that still fails after its retries fails the smoke test, with a message that
 * says which check, which pod, what was expected and what came back.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ResolvedSmokeCheck } from '../crd/defaults.js';
import { unsafePathReason } from './path-rules.js';
import { PodHttpError, podName, truncate, type PodHttp, type PodResponse } from './pod-http.js';
import type { PodRef, SmokeResult } from './types.js';

export interface SmokeOptions {
  /** Waits between attempts; injectable so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** The overall deadline of one smoke run, whatever its checks' timeouts and retries add up to. */
  deadlineMs?: number;
  /** A monotonic clock in ms, to time each answer against its latency budget; injectable for tests. */
  now?: () => number;
}

/**
 * A run of every check on every pod ends after this long at the latest, so pods that never answer hold
 * neither a socket nor a verification slot for long. Generous: the default checks on ten hanging pods
 * fail well within it, as the first pod's failure ends the run.
 */
export const SMOKE_RUN_DEADLINE_MS = 120_000;

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 4000;
const BODY_EXCERPT_CHARS = 200;

/** The wait before retry `n` (0-based): 250 ms, doubling, at most 4 s. */
export function retryBackoffMs(n: number): number {
  return Math.min(FIRST_BACKOFF_MS * 2 ** n, MAX_BACKOFF_MS);
}

export async function runSmokeChecks(
  http: PodHttp,
  pods: readonly PodRef[],
  checks: readonly ResolvedSmokeCheck[],
  options: SmokeOptions = {},
): Promise<SmokeResult> {
  // Zero pods would pass every check vacuously; a rollout with nothing to verify is not verified.
  if (pods.length === 0)
    return { passed: false, message: 'no pods of the new revision to run smoke checks against' };
  if (checks.length === 0) return { passed: true, message: 'no smoke checks configured' };
  // An unsafe path is refused before anything is sent to any pod, and is not worth a retry; a dry-run
  // check with one is reported and never sent.
  const dryRunFailures: string[] = [];
  const toRun: ResolvedSmokeCheck[] = [];
  for (const check of checks) {
    const unsafe = unsafePathReason(check.path);
    if (unsafe === undefined) {
      toRun.push(check);
      continue;
    }
    const path = JSON.stringify(truncate(check.path, 200));
    const message = `smoke check "${check.name}": path ${path} refused: ${unsafe}`;
    if (check.dryRun !== true) return { passed: false, message };
    dryRunFailures.push(message);
  }
  const deadlineMs = options.deadlineMs ?? SMOKE_RUN_DEADLINE_MS;
  const run: Run = {
    http,
    deadline: AbortSignal.timeout(deadlineMs),
    sleep: options.sleep ?? ((ms: number) => delay(ms)),
    now: options.now ?? (() => performance.now()),
  };
  const failedDryRun = new Set<string>();
  for (const pod of pods) {
    for (const check of toRun) {
      // A dry-run check that failed on one pod is reported once, not run again on the others.
      if (failedDryRun.has(check.name)) continue;
      const failure = await runCheck(run, pod, check);
      if (failure !== undefined && check.dryRun !== true) return { passed: false, message: failure };
      if (run.deadline.aborted) return { passed: false, message: overDeadline(deadlineMs, check, pod) };
      if (failure !== undefined) {
        failedDryRun.add(check.name);
        dryRunFailures.push(failure);
      }
    }
  }
  const names = checks.map((check) => check.name).join(', ');
  const podCount = pods.length === 1 ? '1 pod' : `${pods.length} pods`;
  const dryRun =
    dryRunFailures.length > 0 ? `; dry run, would have failed: ${dryRunFailures.join('; ')}` : '';
  return {
    passed: true,
    message: `smoke checks passed on ${podCount}: ${names}${dryRun}`,
    ...(dryRunFailures.length > 0 && { dryRunFailures }),
  };
}

interface Run {
  http: PodHttp;
  /** Aborts when the whole run has taken SMOKE_RUN_DEADLINE_MS. */
  deadline: AbortSignal;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

function overDeadline(deadlineMs: number, check: ResolvedSmokeCheck, pod: PodRef): string {
  return (
    `smoke tests did not finish within their overall deadline of ${deadlineMs / 1000}s ` +
    `(stopped at check "${check.name}" on pod ${podName(pod)})`
  );
}

/** Resolves after `ms`, or at once when the run's deadline passes. */
function pause(run: Run, ms: number): Promise<void> {
  if (run.deadline.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      run.deadline.removeEventListener('abort', done);
      resolve();
    };
    run.deadline.addEventListener('abort', done);
    void run.sleep(ms).then(done, done);
  });
}

/** Undefined when the check passed within its attempts, else the failure message. */
async function runCheck(run: Run, pod: PodRef, check: ResolvedSmokeCheck): Promise<string | undefined> {
  const attempts = check.retries + 1;
  let seen = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await pause(run, retryBackoffMs(attempt - 1));
    if (run.deadline.aborted) return undefined; // the caller reports the deadline
    const outcome = await attemptCheck(run, pod, check);
    if (outcome === undefined) return undefined;
    seen = outcome;
  }
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  return (
    `smoke check "${check.name}" (${check.method} ${check.path}) failed on pod ${podName(pod)} after ${tries}: ` +
    `expected ${describeExpectation(check)}; got ${seen}`
  );
}

async function attemptCheck(run: Run, pod: PodRef, check: ResolvedSmokeCheck): Promise<string | undefined> {
  let response: PodResponse;
  const started = run.now();
  try {
    response = await run.http.request(pod, {
      method: check.method,
      path: check.path,
      timeoutMs: check.timeoutSeconds * 1000,
      signal: run.deadline,
      ...(check.body !== undefined && { body: check.body }),
    });
  } catch (error) {
    if (error instanceof PodHttpError) return `no answer (${error.reason})`;
    return `no answer (${error instanceof Error ? error.message : String(error)})`;
  }
  // Until the whole body has arrived: what a client of the pod would wait for.
  const elapsedMs = Math.round(run.now() - started);
  const mismatch = evaluateResponse(check, response);
  if (mismatch === undefined) return overBudget(check, response, elapsedMs);
  if (response.proxyError !== undefined) {
    return `status ${response.status} from the API server, which answered instead of the pod: ${response.proxyError}`;
  }
  return `status ${response.status} with ${excerpt(response.body)}${mismatch === 'status' ? '' : ` (${mismatch})`}`;
}

/** Undefined when the answer came within the check's latency budget, else what was seen. */
export function overBudget(
  check: Pick<ResolvedSmokeCheck, 'maxLatencyMs'>,
  response: Pick<PodResponse, 'status'>,
  elapsedMs: number,
): string | undefined {
  if (elapsedMs <= check.maxLatencyMs) return undefined;
  return `status ${response.status} after ${elapsedMs} ms, over the latency budget of ${check.maxLatencyMs} ms`;
}

export function describeExpectation(check: ResolvedSmokeCheck): string {
  const parts = [`status ${check.expectStatus}`];
  if (check.contains !== undefined) parts.push(`a body containing ${JSON.stringify(check.contains)}`);
  if (check.jsonField !== undefined) {
    parts.push(
      `JSON field ${JSON.stringify(check.jsonField.name)} equal to ${JSON.stringify(check.jsonField.equals)}`,
    );
  }
  return parts.join(' and ');
}

/**
 * Undefined when the answer meets the check; 'status' when the status is wrong; else why the body is.
 * A JSON field matches when its value, as text (objects as JSON), equals the expected string.
 */
export function evaluateResponse(check: ResolvedSmokeCheck, response: PodResponse): string | undefined {
  if (response.status !== check.expectStatus) return 'status';
  if (check.contains !== undefined && !response.body.includes(check.contains)) {
    return `the body does not contain ${JSON.stringify(check.contains)}`;
  }
  if (check.jsonField === undefined) return undefined;
  const { name, equals } = check.jsonField;
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    return 'the body is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return 'the body is not a JSON object';
  if (!Object.hasOwn(parsed, name)) return `JSON field ${JSON.stringify(name)} is missing`;
  const value: unknown = (parsed as Record<string, unknown>)[name];
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text === equals ? undefined : `JSON field ${JSON.stringify(name)} is ${JSON.stringify(text)}`;
}

function excerpt(body: string): string {
  if (body === '') return 'an empty body';
  const flat = body.replace(/\s+/g, ' ').trim();
  const cut = flat.length > BODY_EXCERPT_CHARS ? `${flat.slice(0, BODY_EXCERPT_CHARS)}…` : flat;
  return `body ${cut}`;
}
