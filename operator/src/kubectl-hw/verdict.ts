/**
 * What `kubectl hw status NAME --wait` decides from one look at the HelloWorld, and the exit codes it
 * ends with (docs/kubectl-plugin.md). Pure: the caller watches and calls this on every change.
 *
 * A phase counts only once the status describes the spec the user sees: status.observedGeneration equals
 * metadata.generation. Right after an apply the status still holds the previous generation's phase, often
 * Available, and a CI pipeline must not pass on it. A reconcile blocked before the rollout (Reconciled
 * False) records the new generation but keeps the old phase, so it does not count either.
 */
import type { HelloWorldView } from './view.js';

export const EXIT = {
  /** Available: the current spec rolled out and passed (or a command succeeded). */
  ok: 0,
  /** The request failed: unreachable API server, no such HelloWorld, no permission, deleted while waiting. */
  error: 1,
  /** Bad arguments. */
  usage: 2,
  rolledBack: 3,
  failed: 4,
  /** --wait gave up after --timeout with no verdict. */
  timeout: 5,
  /** --wait ended by Ctrl-C (SIGINT) before a verdict, as shells report a process SIGINT ended. */
  interrupted: 130,
} as const;

export type WaitVerdict =
  { kind: 'waiting'; why: string } | { kind: 'done'; code: number; phase: string; why: string };

export function judgeWait(view: HelloWorldView): WaitVerdict {
  const { generation, observedGeneration, phase } = view;
  if (generation === undefined) return { kind: 'waiting', why: 'the object has no metadata.generation' };
  if (observedGeneration !== generation) {
    const seen = observedGeneration === undefined ? 'none' : String(observedGeneration);
    return {
      kind: 'waiting',
      why: `the operator has not observed generation ${generation} yet (status is of generation ${seen})`,
    };
  }
  const condition = (type: string): HelloWorldView['conditions'][number] | undefined =>
    view.conditions.find((c) => c.type === type);
  const reconciled = condition('Reconciled');
  if (reconciled?.status === 'False') {
    return { kind: 'waiting', why: `reconcile blocked: ${reconciled.reason}: ${reconciled.message}` };
  }
  const degraded = condition('Degraded');
  switch (phase) {
    case 'Available':
      if (degraded?.status === 'True') {
        return { kind: 'waiting', why: `Available but Degraded: ${degraded.reason}: ${degraded.message}` };
      }
      if (view.currentRevision !== view.stableRevision) {
        return { kind: 'waiting', why: 'Available, but the current revision is not the stable one yet' };
      }
      return { kind: 'done', code: EXIT.ok, phase, why: 'the current spec is rolled out and stable' };
    case 'RolledBack':
      return {
        kind: 'done',
        code: EXIT.rolledBack,
        phase,
        why: failureText(view.lastRollback?.reason, view.lastRollback?.message, degraded),
      };
    case 'Failed':
      return { kind: 'done', code: EXIT.failed, phase, why: failureText(undefined, undefined, degraded) };
    default:
      return { kind: 'waiting', why: `phase ${phase ?? '(none)'}` };
  }
}

function failureText(
  reason: string | undefined,
  message: string | undefined,
  degraded: { reason: string; message: string } | undefined,
): string {
  const r = reason || degraded?.reason || 'no reason recorded';
  const m = message || degraded?.message || '';
  return m === '' ? r : `${r}: ${m}`;
}

/** The exit codes, as the help text lists them. */
export const EXIT_HELP = (
  [
    [EXIT.ok, 'Available (status of the current generation)'],
    [EXIT.error, 'error (API server unreachable, not found, no CRD, forbidden, deleted while waiting)'],
    [EXIT.usage, 'bad arguments'],
    [EXIT.rolledBack, 'RolledBack'],
    [EXIT.failed, 'Failed'],
    [EXIT.timeout, '--timeout passed without a verdict'],
    [EXIT.interrupted, 'Ctrl-C before a verdict'],
  ] as const
)
  .map(([code, meaning]) => `${String(code).padEnd(5)}${meaning}`)
  .join('\n');
