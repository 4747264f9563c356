/**
 * How a verdict is told: plain text for the log, markdown for the GitHub job summary, and an error
 * annotation for GitHub Actions. Everything taken from the status is hostile text: it is stripped of
 * control characters, bounded in length, and placed where neither markdown nor HTML nor an Actions
 * workflow command (a log line starting with `::`) can come out of it.
 */
import type { Observed, Verdict } from './verdict.ts';

export interface Outcome {
  target: { namespace: string; name: string };
  /** The last object read (undefined: never read). */
  observed: Observed | undefined;
  /** The verdict, or undefined when the timeout came first. */
  verdict: Exclude<Verdict, { kind: 'waiting' }> | undefined;
  /** Why there was no verdict yet, at the last look (timeouts). */
  lastWait: string;
  /** How long was waited, e.g. "10m". */
  waited: string;
}

/** Longest text taken from the status into one place of the summary or the log. */
const MAX_TEXT = 4000;
const MAX_INLINE = 300;

/**
 * C0 and C1 control characters other than newline and tab, DEL, and the bidirectional marks and
 * overrides that can make text read differently from what it is.
 */
export function isUnsafeChar(char: string): boolean {
  const c = char.codePointAt(0) ?? 0;
  if (c === 0x0a || c === 0x09) return false;
  return (
    c < 0x20 ||
    (c >= 0x7f && c <= 0x9f) ||
    c === 0x200e ||
    c === 0x200f ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069)
  );
}

/** Drops unsafe characters (and newlines and tabs unless `multiline`) and bounds the length. */
export function clean(value: string, multiline: boolean, max = multiline ? MAX_TEXT : MAX_INLINE): string {
  const unified = value.replace(/\r\n?/g, '\n');
  const chars = [...unified].filter((ch) => !isUnsafeChar(ch));
  const out = multiline ? chars.join('') : chars.join('').replace(/[\n\t]+/g, ' ');
  const kept = [...out];
  return kept.length > max ? `${kept.slice(0, max).join('')}… (${kept.length - max} more characters)` : out;
}

const longestRun = (value: string, char: string): number =>
  Math.max(0, ...[...value.matchAll(new RegExp(`\\${char}+`, 'g'))].map((m) => m[0].length));

/**
 * Markdown inline code: nothing inside is markup or HTML. The fence is longer than any run of backticks
 * in the text, and `|` is escaped so that the span cannot end a table cell.
 */
export function code(value: string): string {
  const body = clean(value, false);
  if (body === '') return '–';
  const fence = '`'.repeat(longestRun(body, '`') + 1);
  return `${fence} ${body.replace(/\|/g, '\\|')} ${fence}`;
}

/** A markdown fenced code block of the text, fenced by more backticks than it contains in a row. */
export function codeBlock(value: string): string {
  const body = clean(value, true);
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  return `${fence}text\n${body}\n${fence}`;
}

const where = ({ namespace, name }: Outcome['target']): string => `${namespace}/${name}`;

function conditionLines(observed: Observed | undefined): string {
  if (!observed || observed.conditions.length === 0) return '(no conditions)';
  return observed.conditions
    .map((c) => clean(`${c.type}=${c.status} ${c.reason}: ${c.message}`, false, 1000))
    .join('\n');
}

function generationLine(observed: Observed | undefined): string {
  if (!observed) return 'the HelloWorld could not be read';
  const seen = observed.observedGeneration === undefined ? 'none' : String(observed.observedGeneration);
  return `generation ${String(observed.generation ?? '?')}, observed ${seen}, phase ${observed.phase ?? '(none)'}`;
}

/** 0 Available, 1 rolled back, failed or superseded, 2 no verdict in time. */
export const exitCode = (outcome: Outcome): number =>
  outcome.verdict === undefined ? 2 : outcome.verdict.kind === 'available' ? 0 : 1;

/** The verdict for the log (plain text; may contain anything the status held, cleaned). */
export function logText(outcome: Outcome): string {
  const { verdict, observed } = outcome;
  const head = `HelloWorld ${where(outcome.target)}`;
  if (verdict?.kind === 'available') {
    return `${head} is Available: image ${clean(observed?.image ?? '?', false)} is the stable revision`;
  }
  if (verdict?.kind === 'failed') {
    const rollback = observed?.lastRollback;
    const images =
      verdict.phase === 'RolledBack' && rollback
        ? `\n  rolled back from ${clean(rollback.fromImage, false)} to ${clean(rollback.toImage, false)}`
        : '';
    return `${head} ${verdict.phase} (${clean(verdict.reason, false)})${images}\n  message: ${clean(verdict.message, true)}`;
  }
  return (
    `${head}: no verdict within ${outcome.waited} (${generationLine(observed)})\n` +
    `  last: ${clean(outcome.lastWait, false, 1000)}\n  conditions:\n${indent(conditionLines(observed))}`
  );
}

const indent = (lines: string): string =>
  lines
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

/** The verdict as a markdown section for $GITHUB_STEP_SUMMARY. */
export function summaryMarkdown(outcome: Outcome): string {
  const { verdict, observed } = outcome;
  const target = code(where(outcome.target));
  const image = `- image: ${code(observed?.image ?? '')}`;
  if (verdict?.kind === 'available') {
    return `### ✅ HelloWorld ${target}: Available\n\n${image}\n- ${code(generationLine(observed))}\n`;
  }
  if (verdict?.kind === 'failed') {
    const rollback = observed?.lastRollback;
    const lines = [
      `### ❌ HelloWorld ${target}: ${code(verdict.phase)} (${code(verdict.reason)})`,
      '',
      image,
      ...(verdict.phase === 'RolledBack' && rollback
        ? [`- rolled back from ${code(rollback.fromImage)} to ${code(rollback.toImage)}`]
        : []),
      '',
      verdict.phase === 'RolledBack' ? '`status.lastRollback.message`:' : 'Message:',
      '',
      codeBlock(verdict.message),
    ];
    return `${lines.join('\n')}\n`;
  }
  return [
    `### ⏱️ HelloWorld ${target}: no verdict within ${code(outcome.waited)}`,
    '',
    image,
    `- ${code(generationLine(observed))}`,
    `- last: ${code(outcome.lastWait)}`,
    '',
    'Conditions:',
    '',
    codeBlock(conditionLines(observed)),
    '',
  ].join('\n');
}

/** Escapes the data of a workflow command (`::error::DATA`), as @actions/core does. */
const escapeData = (value: string): string =>
  value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (value: string): string => escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** An `::error` annotation for a verdict that is not a pass (GitHub Actions shows it on the run). */
export function errorAnnotation(outcome: Outcome): string | undefined {
  const { verdict } = outcome;
  if (verdict?.kind === 'available') return undefined;
  const title = `HelloWorld ${where(outcome.target)} ${verdict ? verdict.phase : 'no verdict'}`;
  const message = verdict ? `${verdict.reason}: ${verdict.message}` : outcome.lastWait;
  return `::error title=${escapeProperty(clean(title, false))}::${escapeData(clean(message, true))}`;
}
