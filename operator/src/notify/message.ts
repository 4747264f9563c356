/**
 * The bodies a webhook receives: one JSON object per transition, or the same as a Slack-compatible
 * incoming-webhook message. Messages quote pod answers, so the Slack text escapes what Slack would
 * read as markup (`<!channel>`, links).
 */
import type { NotificationFormat, PendingNotification } from '../crd/types.js';

/** Changes only with an incompatible change of the JSON shape. */
export const SCHEMA_VERSION = 'hello.dev/notification/v1';

export interface NotificationTarget {
  namespace: string;
  name: string;
}

export interface JsonMessage {
  schema: typeof SCHEMA_VERSION;
  id: string;
  helloWorld: { namespace: string; name: string };
  transition: PendingNotification['transition'];
  reason: string;
  severity: 'info' | 'warning';
  revision: string;
  image: string;
  rolloutStartedAt: string;
  time: string;
  message: string;
  rollback?: PendingNotification['rollback'];
}

const WARNINGS: ReadonlySet<PendingNotification['transition']> = new Set(['RolledBack', 'Failed']);

export function jsonMessage(hw: NotificationTarget, note: PendingNotification): JsonMessage {
  return {
    schema: SCHEMA_VERSION,
    id: note.id,
    helloWorld: { namespace: hw.namespace, name: hw.name },
    transition: note.transition,
    reason: note.reason,
    severity: WARNINGS.has(note.transition) ? 'warning' : 'info',
    revision: note.revision,
    image: note.image,
    rolloutStartedAt: note.rolloutStartedAt,
    time: note.time,
    message: note.message,
    ...(note.rollback && { rollback: note.rollback }),
  };
}

const HEADLINES: Record<PendingNotification['transition'], string> = {
  Started: 'rollout started',
  StepPassed: 'step passed',
  Paused: 'rollout paused',
  Promoted: 'promoted',
  RolledBack: 'rolled back',
  Failed: 'rollout failed',
};

/** Slack's mrkdwn escapes: `&`, `<` and `>` are all it interprets as markup. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface SlackMessage {
  text: string;
  blocks: (
    | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
    | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] }
  )[];
}

export function slackMessage(hw: NotificationTarget, note: PendingNotification): SlackMessage {
  const icon = WARNINGS.has(note.transition) ? ':warning:' : ':information_source:';
  const who = slackEscape(`${hw.namespace}/${hw.name}`);
  const what = `${HEADLINES[note.transition]} (${slackEscape(note.reason)})`;
  const headline = `${icon} HelloWorld ${who}: ${what}, revision ${slackEscape(note.revision)} (${slackEscape(note.image)})`;
  const lines = [`*${headline}*`, slackEscape(note.message)];
  if (note.rollback) {
    const r = note.rollback;
    lines.push(
      slackEscape(
        `rolled back from ${r.fromRevision} (${r.fromImage}) to ${r.toRevision} (${r.toImage}): ${r.reason}`,
      ),
    );
  }
  return {
    text: `${headline}: ${slackEscape(note.message)}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `id ${note.id} · ${note.time}` }],
      },
    ],
  };
}

/** The request body for `format`. */
export function messageBody(
  format: NotificationFormat,
  hw: NotificationTarget,
  note: PendingNotification,
): string {
  return JSON.stringify(format === 'Slack' ? slackMessage(hw, note) : jsonMessage(hw, note));
}
