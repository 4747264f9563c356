/**
 * Content hashes: the one sha256 helper and the two key-sorted JSON serializations hashed.
 *
 * Every hash here ends up in an annotation on a live object (a pod template's revision and config
 * checksum, a child's desired-hash), so its value for a given input is frozen: a new value after an
 * upgrade would restart every user's pods. That is why there are two serializations, not one; they
 * differ only where the values already written differ (hash.test.ts pins them):
 * - `canonicalJson` (revisions) sees an object as the API server stores it: null, undefined, empty
 *   objects and empty arrays dropped, Dates as RFC 3339 text, and array-index keys ("9", "10") first in
 *   numeric order, as JSON.stringify orders a rebuilt object.
 * - `sortedJson` (desired-hash) keeps every member but undefined ones, orders all keys by code unit,
 *   and writes a Date as the empty object it enumerates to.
 */
import { createHash } from 'node:crypto';

/** The first `digits` hex digits of the sha256 of `text`. */
export function sha256Hex(text: string, digits: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, digits);
}

/** A short, stable hash of a value: 16 hex digits of sha256 of its `sortedJson`. */
export function hashObject(value: unknown): string {
  return sha256Hex(sortedJson(value), 16);
}

/** JSON with keys sorted at every level, dropping empties as the API server does (see above). */
export function canonicalJson(value: unknown): string {
  return write(value, AS_STORED) ?? 'null';
}

/** JSON with keys sorted at every level; `undefined` members are dropped, like JSON.stringify. */
export function sortedJson(value: unknown): string {
  return write(value, AS_GIVEN) ?? 'null';
}

interface Style {
  /** Drop null, empty objects and empty arrays (undefined is always dropped); Dates as text. */
  asStored: boolean;
  keyOrder: (a: string, b: string) => number;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** JavaScript's own property order: array indices ascending, then the other keys (here sorted). */
const ARRAY_INDEX = /^(0|[1-9]\d*)$/;
const MAX_ARRAY_INDEX = 2 ** 32 - 2;
const arrayIndex = (key: string): number | undefined =>
  ARRAY_INDEX.test(key) && Number(key) <= MAX_ARRAY_INDEX ? Number(key) : undefined;
function indicesFirst(a: string, b: string): number {
  const [x, y] = [arrayIndex(a), arrayIndex(b)];
  if (x !== undefined && y !== undefined) return x - y;
  if (x !== undefined || y !== undefined) return x !== undefined ? -1 : 1;
  return byCodeUnit(a, b);
}

const AS_STORED: Style = { asStored: true, keyOrder: indicesFirst };
const AS_GIVEN: Style = { asStored: false, keyOrder: byCodeUnit };

/** The JSON text of `value`, or undefined when the style drops it (an array writes it as null). */
function write(value: unknown, style: Style): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) return style.asStored ? undefined : 'null';
  if (style.asStored && value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    if (style.asStored && value.length === 0) return undefined;
    return `[${Array.from(value, (item) => write(item, style) ?? 'null').join(',')}]`;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort(style.keyOrder)
      .flatMap((key) => {
        const text = write(record[key], style);
        return text === undefined ? [] : [`${JSON.stringify(key)}:${text}`];
      });
    if (style.asStored && members.length === 0) return undefined;
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}
