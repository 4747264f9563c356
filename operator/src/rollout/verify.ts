/**
 * One step of post-rollout verification: smoke tests once, then analysis samples one interval at a time.
 * Everything needed to resume lives in VerificationStatus, so a restarted operator carries on where the
 * last step stopped. The verifier is the only I/O; when it throws, the check fails with its error.
 */
import type { ResolvedSpec } from '../crd/defaults.js';
import type { HelloSample, VerificationStatus } from '../crd/types.js';
import { probeNextInterval, type ProbePolicy } from '../verification/probe-schedule.js';
import { VerificationPending } from '../verification/background.js';
import { truncate } from '../verification/pod-http.js';
import type { PodRef, SmokeResult, Verifier } from '../verification/types.js';
import { FailureReason } from './conditions.js';
import type { MeasureFn } from './types.js';
import { MAX_MESSAGE_CHARS, hit, judgeInterval, type BaselineRead, type DryRunHit } from './verify-judge.js';

/** How often to look again while no pod of the new revision is ready to be checked. */
const WAIT_FOR_PODS_MS = 5_000;
/** How often to look again while a smoke run or sample runs in the background. */
export const PENDING_POLL_MS = 1_000;
export { MAX_MESSAGE_CHARS };

export interface VerifyInput {
  verification: VerificationStatus;
  spec: ResolvedSpec;
  /** Ready pods of the revision under verification. */
  pods: PodRef[];
  /**
   * Ready pods of the stable revision, to judge the canary against (analysis.comparison). Absent: only
   * the fixed thresholds judge (the rolling strategy has no stable pods beside the new ones).
   */
  baseline?: PodRef[];
  verifier: Verifier;
  measure: MeasureFn;
  now: Date;
}

type StepResult = { verification: VerificationStatus } & (
  | { kind: 'waiting'; requeueAfterMs: number }
  | { kind: 'passed'; message: string }
  | {
      kind: 'failed';
      reason:
        | typeof FailureReason.SmokeTestFailed
        | typeof FailureReason.AnalysisFailed
        | typeof FailureReason.CanaryWorseThanStable;
      message: string;
    }
);

/**
 * Where verification stands after this step; `smokePassedNow` marks the transition for an event, and
 * `dryRun` lists the dry-run checks that would have failed in this step (each `first` once per verification).
 */
export type VerifyOutcome = StepResult & { smokePassedNow: boolean; dryRun: DryRunHit[] };

export function newVerification(revision: string, now: Date): VerificationStatus {
  return { revision, startedAt: now.toISOString(), consecutiveFailures: 0, measurements: 0 };
}

export async function verifyStep(input: VerifyInput): Promise<VerifyOutcome> {
  const dryRun: DryRunHit[] = [];
  return { ...(await steps(input, dryRun)), dryRun };
}

async function steps(
  input: VerifyInput,
  dryRun: DryRunHit[],
): Promise<StepResult & { smokePassedNow: boolean }> {
  const { spec, pods, now } = input;
  const smoke = spec.rollout.verification.smoke;
  let v: VerificationStatus = { ...input.verification };
  let smokePassedNow = false;

  if (smoke.enabled && smoke.checks.length > 0 && v.smokePassed !== true) {
    if (pods.length === 0) return { ...waitForPods(v, spec, now, 'smoke tests'), smokePassedNow };
    const result = await input.verifier.smoke(pods, smoke.checks).catch((err: unknown) => {
      if (err instanceof VerificationPending) return err;
      const failed: SmokeResult = { passed: false, message: `smoke tests could not run: ${errorText(err)}` };
      return failed;
    });
    if (result instanceof VerificationPending) {
      const lastMessage = `${result.message} on ${pods.length} pod(s)`;
      return {
        kind: 'waiting',
        requeueAfterMs: PENDING_POLL_MS,
        verification: { ...v, lastMessage },
        smokePassedNow,
      };
    }
    const message = truncate(result.message, MAX_MESSAGE_CHARS);
    v = { ...v, lastMessage: `smoke tests: ${message}` };
    if (!result.passed) {
      const reason = FailureReason.SmokeTestFailed;
      return { kind: 'failed', reason, message, verification: v, smokePassedNow };
    }
    if (result.dryRunFailures !== undefined && result.dryRunFailures.length > 0) {
      dryRun.push(hit(v, 'smoke', result.dryRunFailures.join('; '), now));
    }
    v.smokePassed = true;
    smokePassedNow = true;
  }

  const analysis = spec.rollout.verification.analysis;
  if (!analysis.enabled) {
    return {
      kind: 'passed',
      message: v.lastMessage ?? 'no checks configured',
      verification: v,
      smokePassedNow,
    };
  }
  return { ...(await analysisStep(v, input, dryRun)), smokePassedNow };
}

/** Whether this verification compares the canary with stable pods. */
function comparing(input: VerifyInput): boolean {
  return input.baseline !== undefined && input.spec.rollout.verification.analysis.comparison.enabled;
}

async function analysisStep(
  start: VerificationStatus,
  input: VerifyInput,
  dryRun: DryRunHit[],
): Promise<StepResult> {
  const { spec, now, pods } = input;
  const policy = spec.rollout.verification.analysis;
  const v: VerificationStatus = { ...start, analysisStartedAt: start.analysisStartedAt ?? now.toISOString() };
  const intervalMs = policy.intervalSeconds * 1000;
  const windowEnd = Date.parse(v.analysisStartedAt ?? '') + policy.windowSeconds * 1000;
  const last = v.lastMeasurementAt === undefined ? undefined : Date.parse(v.lastMeasurementAt);
  const due =
    last === undefined ||
    now.getTime() - last >= intervalMs ||
    (now.getTime() >= windowEnd && last < windowEnd);

  if (due) {
    // Both sides over the same interval: sampled together, and measured only when both are in.
    const [sample, baselineSample] = await Promise.all([
      takeSample(input.verifier, pods),
      comparing(input) ? takeSample(input.verifier, input.baseline ?? [], 'stable') : undefined,
    ]);
    // A sample runs on in the background: nothing measured yet, look again soon.
    if ('pending' in sample || (baselineSample !== undefined && 'pending' in baselineSample)) {
      orderProbes(input, v, Date.parse(v.lastMeasurementAt ?? '') + intervalMs);
      return { kind: 'waiting', requeueAfterMs: PENDING_POLL_MS, verification: v };
    }
    const baseline: BaselineRead | undefined = baselineSample;
    v.lastMeasurementAt = now.toISOString();
    let reason: typeof FailureReason.AnalysisFailed | typeof FailureReason.CanaryWorseThanStable =
      FailureReason.AnalysisFailed;
    if ('error' in sample) {
      v.consecutiveFailures += 1;
      v.lastMessage = `analysis: could not read metrics: ${truncate(sample.error, MAX_MESSAGE_CHARS)}`;
    } else if (!v.lastSample) {
      v.lastSample = sample.sample;
      if (baseline !== undefined && 'sample' in baseline) v.lastBaselineSample = baseline.sample;
      takeProbeAnswers(input, v);
      v.probing = canProbe(input) && probeNextInterval(policy.probe, undefined);
      const probing = v.probing ? `; probing it at ${policy.probe.ratePerSecond}/s` : '';
      const stable = baseline === undefined ? '' : ` and ${input.baseline?.length ?? 0} stable pod(s)`;
      v.lastMessage = `analysis: baseline taken from ${pods.length} pod(s)${stable}; first measurement in ${policy.intervalSeconds}s${probing}`;
    } else {
      const m = input.measure(v.lastSample, sample.sample, policy);
      const verdict = judgeInterval(v, m, policy, { prev: v.lastSample, cur: sample.sample }, baseline, now);
      v.lastSample = sample.sample;
      v.measurements += 1;
      v.consecutiveFailures = verdict.failed ? v.consecutiveFailures + 1 : 0;
      if (verdict.failed) reason = verdict.reason;
      dryRun.push(...verdict.dryRun);
      if (m.result === 'NoData') v.noDataMeasurements = (v.noDataMeasurements ?? 0) + 1;
      const probes = takeProbeAnswers(input, v);
      const stableProbes = takeProbeAnswers(input, v, STABLE_PROBES);
      const stableNeedsProbes =
        verdict.baselineRequests !== undefined &&
        probeNextInterval(policy.probe, { requests: verdict.baselineRequests, probes: stableProbes });
      v.probing =
        canProbe(input) &&
        (probeNextInterval(policy.probe, { requests: m.requests, probes }) || stableNeedsProbes);
      v.lastMessage = `analysis measurement ${v.measurements}: ${verdict.text}${probeNote(m.requests, probes, v.probing, policy.probe)}`;
    }
    if (v.consecutiveFailures >= policy.failureLimit) {
      stopProbes(input, v);
      return {
        kind: 'failed',
        reason,
        message: `${v.consecutiveFailures} consecutive failed measurements (failureLimit ${policy.failureLimit}); last: ${v.lastMessage}`,
        verification: v,
      };
    }
  }

  const measuredAt = Date.parse(v.lastMeasurementAt ?? '');
  if (now.getTime() >= windowEnd && measuredAt >= windowEnd && v.measurements > 0) {
    stopProbes(input, v);
    return { kind: 'passed', message: passMessage(v, policy), verification: v };
  }
  const next = Math.min(measuredAt + intervalMs, measuredAt < windowEnd ? windowEnd : Infinity);
  orderProbes(input, v, next);
  return { kind: 'waiting', requeueAfterMs: next - now.getTime(), verification: v };
}

/**
 * Probe orders run a little past the next measurement, so a sample that takes a moment still sees them;
 * an operator that stops asking (restarted, the HelloWorld gone) stops probing by then at the latest.
 */
export const PROBE_GRACE_MS = 5_000;

/** The probe order of the stable pods, beside the canary's, when the two are compared. */
const STABLE_PROBES = '/stable';

/** One verification's probes: the pods of one HelloWorld share its namespace, revisions are unique to it. */
function probeKey(input: VerifyInput, v: VerificationStatus, side = ''): string | undefined {
  const namespace = input.pods[0]?.namespace;
  return namespace === undefined ? undefined : `${namespace}/${v.revision}${side}`;
}

/** Keeps the probe traffic of the current interval going (every reconcile, so a restart resumes it). */
function orderProbes(input: VerifyInput, v: VerificationStatus, nextMeasurement: number): void {
  const prober = input.verifier.prober;
  const key = probeKey(input, v);
  if (prober === undefined || key === undefined) return;
  const stableKey = comparing(input) ? probeKey(input, v, STABLE_PROBES) : undefined;
  if (v.probing !== true) {
    prober.set(key, undefined);
    if (stableKey !== undefined) prober.set(stableKey, undefined);
    return;
  }
  const { ratePerSecond } = input.spec.rollout.verification.analysis.probe;
  const now = input.now.getTime();
  const until = (Number.isFinite(nextMeasurement) ? Math.max(nextMeasurement, now) : now) + PROBE_GRACE_MS;
  prober.set(key, { pods: input.pods, ratePerSecond, until });
  // The same rate to each side, so both are judged on the same kind and amount of probe traffic.
  if (stableKey !== undefined) prober.set(stableKey, { pods: input.baseline ?? [], ratePerSecond, until });
}

function canProbe(input: VerifyInput): boolean {
  return input.verifier.prober !== undefined && probeKey(input, input.verification) !== undefined;
}

function stopProbes(input: VerifyInput, v: VerificationStatus): void {
  v.probing = false;
  const key = probeKey(input, v);
  if (key !== undefined) input.verifier.prober?.set(key, undefined);
  const stableKey = comparing(input) ? probeKey(input, v, STABLE_PROBES) : undefined;
  if (stableKey !== undefined) input.verifier.prober?.set(stableKey, undefined);
}

/** The probes the pods (of one side) answered since the previous sample: they are in this sample's counts. */
function takeProbeAnswers(input: VerifyInput, v: VerificationStatus, side = ''): number {
  const key = probeKey(input, v, side);
  return key === undefined ? 0 : (input.verifier.prober?.takeAnswered(key) ?? 0);
}

function probeNote(requests: number, probes: number, probing: boolean, policy: ProbePolicy): string {
  const sent = probes > 0 ? `; ${Math.min(probes, requests)} of the requests were the operator's probes` : '';
  const organic = Math.max(0, requests - probes);
  const next = probing
    ? `; probing the next interval at ${policy.ratePerSecond}/s (${organic} organic requests, fewer than ${policy.minRequests})`
    : '';
  return `${sent}${next}`;
}

async function takeSample(
  verifier: Verifier,
  pods: PodRef[],
  which = 'of the revision',
): Promise<{ sample: HelloSample } | { error: string } | { pending: true }> {
  if (pods.length === 0) return { error: `no ready pod ${which} to sample` };
  try {
    return { sample: await verifier.sample(pods) };
  } catch (err) {
    if (err instanceof VerificationPending) return { pending: true };
    return { error: errorText(err) };
  }
}

function passMessage(
  v: VerificationStatus,
  policy: ResolvedSpec['rollout']['verification']['analysis'],
): string {
  const noData = v.noDataMeasurements ?? 0;
  const parts = [
    `analysis passed: ${v.measurements} measurement(s) over ${policy.windowSeconds}s, fewer than ${policy.failureLimit} consecutive failures`,
  ];
  if (noData === v.measurements) {
    parts.push(`no /hello traffic during the whole window; passed because noData is ${policy.noData}`);
  } else if (noData > 0) {
    parts.push(`${noData} measurement(s) without /hello traffic (noData is ${policy.noData})`);
  }
  parts.push(`last: ${v.lastMessage ?? ''}`);
  return parts.join('; ');
}

/** No ready pod to test: wait, but not beyond the progress deadline counted from verification start. */
function waitForPods(v: VerificationStatus, spec: ResolvedSpec, now: Date, what: string): StepResult {
  const waitedMs = now.getTime() - Date.parse(v.startedAt);
  const limitSeconds = spec.rollout.progressDeadlineSeconds;
  if (waitedMs > limitSeconds * 1000) {
    const message = `no ready pod of revision ${v.revision} for ${what} within ${limitSeconds}s`;
    return {
      kind: 'failed',
      reason: FailureReason.SmokeTestFailed,
      message,
      verification: { ...v, lastMessage: message },
    };
  }
  const lastMessage = `waiting for a ready pod of revision ${v.revision} for ${what}`;
  return { kind: 'waiting', requeueAfterMs: WAIT_FOR_PODS_MS, verification: { ...v, lastMessage } };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
