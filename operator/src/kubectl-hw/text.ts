/**
 * Text from a HelloWorld's status on its way to a terminal. Anyone allowed to write the status
 * subresource (or a pod answer quoted in a message) decides that text, so an escape sequence in it could
 * recolour the screen, move the cursor, set the window title or hide what follows; each is removed whole,
 * then every other control, format (bidi, zero-width) and separator character becomes a space and the
 * length is bounded (rollout/history.ts, `summarize`).
 */
import { summarize } from '../rollout/history.js';

/** ESC-introduced sequences: CSI (colours, cursor), OSC (window title, hyperlinks) to BEL or ST, others. */
/* eslint-disable no-control-regex -- matching control characters is what these are for */
const ESCAPE_SEQUENCES = [
  /\x1b\[[0-?]*[ -/]*[@-~]/g,
  /\x9b[0-?]*[ -/]*[@-~]/g,
  /\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?/g,
  /\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?/g,
  /\x1b[P^_X][^\x1b\x9c]*(?:\x1b\\|\x9c)?/g,
  /\x1b[ -/]*[0-~]?/g,
];
/* eslint-enable no-control-regex */

/** One line safe to print: escape sequences removed, control characters gone, at most `max` characters. */
export function printable(value: string, max = 200): string {
  let text = value;
  for (const pattern of ESCAPE_SEQUENCES) text = text.replace(pattern, '');
  return summarize(text, max);
}

/** DEL, C1 controls (U+009B is a CSI of its own), and the bidi marks, overrides and isolates. */
const JSON_UNSAFE = /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON of `value`, lossless and safe to print: JSON.stringify escapes C0 controls (ESC among them) but
 * leaves DEL, the C1 controls and the bidi characters raw, so those are escaped here too. They can only
 * stand inside strings, where the escape means the same character.
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    JSON_UNSAFE,
    (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}
