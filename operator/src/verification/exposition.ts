/**
 * A small parser of the Prometheus text exposition format (version 0.0.4), enough to read the API's own
 * counters and histogram: sample lines with labels, comments, escaped label values, special values.
 */

export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class ExpositionParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpositionParseError';
  }
}

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const TOKEN = /[^\s]+/y;

/**
 * A sample value or an `le` bound: floats with exponents, `+Inf`, `-Inf`, `NaN`. Like Prometheus (Go's
 * ParseFloat) the special values are case-insensitive: prom-client writes NaN as "Nan".
 */
export function parseSampleValue(text: string): number | undefined {
  switch (text.toLowerCase()) {
    case '+inf':
    case 'inf':
    case '+infinity':
    case 'infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    case 'nan':
      return NaN;
  }
  // Number() alone would accept "", "0x10", "Infinity" and whitespace; the format allows none of them.
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Reads every sample line of an exposition; throws on the first line that is not the format. */
export function parseExposition(text: string): ExpositionSample[] {
  const samples: ExpositionSample[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      samples.push(parseSampleLine(line));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new ExpositionParseError(
        `line ${index + 1} is not Prometheus text (${why}): ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
  }
  return samples;
}

function parseSampleLine(line: string): ExpositionSample {
  const cursor = { line, pos: 0 };
  const name = match(cursor, METRIC_NAME, 'a metric name');
  skipSpaces(cursor);
  const labels = line[cursor.pos] === '{' ? parseLabels(cursor) : {};
  skipSpaces(cursor);
  const valueText = match(cursor, TOKEN, 'a value');
  const value = parseSampleValue(valueText);
  if (value === undefined) throw new Error(`bad value ${JSON.stringify(valueText)}`);
  skipSpaces(cursor);
  if (cursor.pos < line.length) {
    // An optional timestamp in milliseconds, and nothing after it.
    const timestamp = match(cursor, TOKEN, 'a timestamp');
    if (!/^-?\d+$/.test(timestamp)) throw new Error(`bad timestamp ${JSON.stringify(timestamp)}`);
    skipSpaces(cursor);
    if (cursor.pos < line.length) throw new Error('unexpected text after the timestamp');
  }
  return { name, labels, value };
}

interface Cursor {
  readonly line: string;
  pos: number;
}

function match(cursor: Cursor, pattern: RegExp, what: string): string {
  pattern.lastIndex = cursor.pos;
  const found = pattern.exec(cursor.line);
  if (!found) throw new Error(`expected ${what} at column ${cursor.pos + 1}`);
  cursor.pos += found[0].length;
  return found[0];
}

function skipSpaces(cursor: Cursor): void {
  while (cursor.line[cursor.pos] === ' ' || cursor.line[cursor.pos] === '\t') cursor.pos++;
}

function expect(cursor: Cursor, char: string): void {
  if (cursor.line[cursor.pos] !== char) throw new Error(`expected '${char}' at column ${cursor.pos + 1}`);
  cursor.pos++;
}

function parseLabels(cursor: Cursor): Record<string, string> {
  const labels: Record<string, string> = {};
  expect(cursor, '{');
  skipSpaces(cursor);
  while (cursor.line[cursor.pos] !== '}') {
    const name = match(cursor, LABEL_NAME, 'a label name');
    skipSpaces(cursor);
    expect(cursor, '=');
    skipSpaces(cursor);
    labels[name] = parseQuoted(cursor);
    skipSpaces(cursor);
    if (cursor.line[cursor.pos] === ',') {
      cursor.pos++;
      skipSpaces(cursor);
    } else if (cursor.line[cursor.pos] !== '}') {
      throw new Error(`expected ',' or '}' at column ${cursor.pos + 1}`);
    }
  }
  cursor.pos++;
  return labels;
}

/** A double-quoted label value; the format escapes only backslash, double quote and newline. */
function parseQuoted(cursor: Cursor): string {
  expect(cursor, '"');
  let value = '';
  for (;;) {
    const char = cursor.line[cursor.pos];
    if (char === undefined) throw new Error('unterminated label value');
    cursor.pos++;
    if (char === '"') return value;
    if (char !== '\\') {
      value += char;
      continue;
    }
    const escaped = cursor.line[cursor.pos];
    cursor.pos++;
    if (escaped === 'n') value += '\n';
    else if (escaped === '\\' || escaped === '"') value += escaped;
    else throw new Error(`bad escape in a label value at column ${cursor.pos}`);
  }
}
