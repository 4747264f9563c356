/**
 * The text `kubectl hw status` and `kubectl hw history` print. Pure: a view in, lines out. Every string
 * from the object goes through `printable` (text.ts), so the status cannot steer the terminal. No
 * relative times ("3m ago"): `status -w` redraws only when the text changes.
 */
import { ANNOTATION_PAUSE } from '../crd/types.js';
import { pauseRequested } from '../rollout/gates.js';
import { printable } from './text.js';
import type { ConditionView, HelloWorldView, VerificationView } from './view.js';

const p = (value: string | undefined, max = 200): string =>
  value === undefined || value === '' ? '-' : printable(value, max);
const n = (value: number | undefined): string => (value === undefined ? '?' : String(value));
const short = (revision: string | undefined): string => p(revision, 20);

/** Conditions whose True means fine, whose False means fine, and those that only inform. */
const FINE_WHEN_TRUE = new Set(['Available', 'Reconciled', 'Backup']);
const FINE_WHEN_FALSE = new Set(['Degraded']);
const INFORMATIONAL = new Set(['Progressing', 'Monitoring']);

export function isFine(condition: ConditionView): boolean {
  if (INFORMATIONAL.has(condition.type)) return true;
  if (FINE_WHEN_FALSE.has(condition.type)) return condition.status === 'False';
  if (FINE_WHEN_TRUE.has(condition.type)) return condition.status === 'True';
  return condition.status === 'True';
}

export function renderStatus(view: HelloWorldView): string {
  const lines: string[] = [];
  const field = (label: string, value: string): void => {
    lines.push(`${`${label}:`.padEnd(13)}${value}`);
  };
  const stale =
    view.observedGeneration === undefined
      ? ' (the operator has not written a status yet)'
      : view.generation !== undefined && view.observedGeneration !== view.generation
        ? ` (status is of generation ${view.observedGeneration}, not yet of ${view.generation})`
        : '';
  field('HelloWorld', `${p(view.namespace, 63)}/${p(view.name, 63)}`);
  field('Phase', `${p(view.phase, 40)}${stale}`);
  field('Image', p(view.image));
  field('Strategy', p(view.strategy, 40));
  lines.push(...stepLines(view).map((l) => `${''.padEnd(13)}${l}`));
  lines.push(...podLines(view));
  lines.push(...gateLines(view));
  if (view.verification !== undefined) lines.push(...verificationLines(view.verification));
  if (view.lastRollback !== undefined) {
    const r = view.lastRollback;
    lines.push(
      `Last rollback: ${p(r.time, 40)} ${p(r.fromImage)} -> ${p(r.toImage)}`,
      `  ${p(r.reason, 80)}: ${p(r.message, 400)}`,
    );
  }
  const notFine = view.conditions.filter((c) => !isFine(c));
  if (notFine.length > 0) {
    lines.push('Conditions needing attention:');
    for (const c of notFine)
      lines.push(`  ${p(c.type, 40)}=${p(c.status, 10)} ${p(c.reason, 80)}: ${p(c.message, 400)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The step the canary stands at, and the spec's steps with that one marked. */
function stepLines(view: HelloWorldView): string[] {
  const canary = view.canary;
  if (canary === undefined)
    return view.steps.length > 0 ? [`steps: ${view.steps.map((s) => p(s, 60)).join(', ')}`] : [];
  const { stepIndex, steps } = canary;
  const total = steps ?? view.steps.length;
  const kind = stepIndex === undefined ? undefined : view.steps[stepIndex];
  const where =
    stepIndex === undefined
      ? 'step ?'
      : stepIndex >= total
        ? `all ${total} steps passed, promoting`
        : `step ${stepIndex + 1}/${total}: ${kind === undefined ? '?' : p(kind, 60)}`;
  const since = canary.stepStartedAt === undefined ? '' : ` (since ${p(canary.stepStartedAt, 40)})`;
  const lines = [`${where}${since}`];
  if (canary.message !== undefined && canary.message !== '') lines.push(p(canary.message, 400));
  return lines;
}

function podLines(view: HelloWorldView): string[] {
  const canary = view.canary;
  if (canary !== undefined) {
    return [
      `Pods:        canary ${short(canary.revision)}  ${n(canary.readyReplicas)}/${n(canary.replicas)} ready`,
      `             stable ${short(view.stableRevision)}  ${n(canary.stableReplicas)} ready`,
    ];
  }
  const revisions =
    view.currentRevision === view.stableRevision
      ? `revision ${short(view.currentRevision)}`
      : `current ${short(view.currentRevision)}, stable ${short(view.stableRevision)}`;
  return [
    `Pods:        ${n(view.readyReplicas)}/${n(view.replicas)} ready, ${n(view.updatedReplicas)} updated; ${revisions}`,
  ];
}

function gateLines(view: HelloWorldView): string[] {
  const { annotations, observed } = view;
  const lines: string[] = [];
  // The operator's own rule (rollouts.md); pausedAt is when it stopped.
  const held = annotations.pause !== undefined && pauseRequested({ [ANNOTATION_PAUSE]: annotations.pause });
  const pause = held ? annotations.pause : undefined;
  if (pause !== undefined || view.pausedAt !== undefined) {
    const since = view.pausedAt === undefined ? '' : ` since ${p(view.pausedAt, 40)}`;
    const value = pause === undefined ? 'annotation removed' : `hello.dev/pause=${p(pause, 60)}`;
    lines.push(`Paused:      ${value}${since}`);
  }
  const pending = (name: string, set: string | undefined, seen: string | undefined): void => {
    if (set !== undefined && set !== seen)
      lines.push(`Pending:     hello.dev/${name}=${p(set, 60)} not acted on yet`);
  };
  pending('promote', annotations.promote, observed.promote);
  pending('abort', annotations.abort, observed.abort);
  pending('retry', annotations.retry, observed.retry);
  return lines;
}

function verificationLines(v: VerificationView): string[] {
  const lines = [`Verification: revision ${short(v.revision)} since ${p(v.startedAt, 40)}`];
  const smoke = v.smokePassed === undefined ? 'not run yet' : v.smokePassed ? 'passed' : 'failed';
  lines.push(`  smoke checks: ${smoke}`);
  if (v.measurements !== undefined) {
    const noData = v.noDataMeasurements ? `, ${v.noDataMeasurements} without traffic` : '';
    const last = v.lastMeasurementAt === undefined ? '' : `, last at ${p(v.lastMeasurementAt, 40)}`;
    lines.push(
      `  measurements: ${v.measurements}${noData}, ${n(v.consecutiveFailures)} failed in a row${last}` +
        (v.probing === true ? ' (probe traffic on)' : ''),
    );
  }
  if (v.lastMessage !== undefined) lines.push(`  last: ${p(v.lastMessage, 400)}`);
  if (v.comparison !== undefined) {
    lines.push('  canary vs stable:');
    for (const [path, value] of v.comparison) {
      lines.push(`    ${p(path, 80)}: ${typeof value === 'string' ? p(value, 200) : String(value)}`);
    }
  }
  return lines;
}

const HISTORY_COLUMNS = ['REVISION', 'IMAGE', 'OUTCOME', 'REASON', 'STARTED', 'ENDED', 'SUMMARY'] as const;

export function renderHistory(view: HelloWorldView): string {
  if (view.history.length === 0) return 'No rollouts recorded in status.history.\n';
  const rows = view.history.map((e) => [
    p(e.revision, 20),
    p(e.image, 80),
    p(e.outcome, 20),
    p(e.reason, 40),
    p(e.startTime, 30),
    p(e.endTime, 30),
    p(e.summary, 120),
  ]);
  return table([[...HISTORY_COLUMNS], ...rows]);
}

/** Columns padded to their widest cell (code points), two spaces apart, no trailing blanks. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  const line = (row: string[]): string =>
    row
      .map((cell, i) =>
        i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length),
      )
      .join('  ')
      .trimEnd();
  return `${rows.map(line).join('\n')}\n`;
}
