/**
 * Deciding whether a server-side apply would change anything, without asking the API server.
 *
 * A steady state must make zero writes, yet a deleted or edited child must come back. So before every
 * apply the reconciler compares what it wants (`desired`) with what the informer cache holds (`live`):
 * an apply is needed when the object is missing, or when any field that `desired` sets has a different
 * value in `live`. Fields only `live` has (defaults, other managers' fields, status) are ignored, and the
 * comparison normalises what the API server normalises (quantities, int-or-string, omitted zero values).
 * `withDesiredHash` stamps desired objects with a hash of themselves, so a change in anything desired
 * also shows up as a single changed annotation.
 */
import { hashObject } from './hash.js';

type Stamped<T> = T & { metadata: { annotations: Record<string, string> } };

/** A copy of `desired` carrying `annotation` = the hash of `desired` without that annotation. */
export function withDesiredHash<T extends object>(desired: T, annotation: string): Stamped<T> {
  const { metadata = {} } = desired as { metadata?: { annotations?: Record<string, string> } };
  const annotations = Object.fromEntries(
    Object.entries(metadata.annotations ?? {}).filter(([key]) => key !== annotation),
  );
  const hash = hashObject({ ...desired, metadata: { ...metadata, annotations } });
  return {
    ...desired,
    metadata: { ...metadata, annotations: { ...annotations, [annotation]: hash } },
  };
}

/** True when applying `desired` could change `live` (or `live` does not exist). */
export function needsApply(desired: unknown, live: unknown): boolean {
  return firstDifference(desired, live) !== undefined;
}

/**
 * The path of the first field `desired` sets that differs in `live` ("" for a missing object), or
 * undefined when `desired` is already a subset of `live`. Meant for a log line explaining a write.
 */
export function firstDifference(desired: unknown, live: unknown): string | undefined {
  if (live === undefined || live === null) return '';
  return diff(desired, live, []);
}

/** Fields the API server owns; never compared even if `desired` happens to carry them. */
const IGNORED_METADATA = new Set([
  'managedFields',
  'resourceVersion',
  'uid',
  'generation',
  'creationTimestamp',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);

/** Maps whose values are Kubernetes quantities (resource requirements, quotas, capacities). */
const QUANTITY_MAPS = new Set(['requests', 'limits', 'capacity', 'allocatable', 'hard', 'used']);
const QUANTITY_FIELDS = new Set(['sizeLimit', 'storage']);

function diff(desired: unknown, live: unknown, path: string[]): string | undefined {
  if (desired === undefined || desired === null) return undefined;
  if (Array.isArray(desired)) {
    const liveArray = live ?? [];
    if (!Array.isArray(liveArray) || liveArray.length !== desired.length) return render(path);
    for (let i = 0; i < desired.length; i++) {
      const d = diff(desired[i], liveArray[i], [...path, String(i)]);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (typeof desired === 'object') {
    if (live === undefined || live === null) return isUnset(desired) ? undefined : render(path);
    if (typeof live !== 'object' || Array.isArray(live)) return render(path);
    const liveRecord = live as Record<string, unknown>;
    for (const [key, value] of Object.entries(desired as Record<string, unknown>)) {
      if (isIgnored(path, key)) continue;
      const d = diff(value, liveRecord[key], [...path, key]);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (live === undefined || live === null) return isUnset(desired) ? undefined : render(path);
  return scalarEqual(desired, live, path) ? undefined : render(path);
}

function isIgnored(path: string[], key: string): boolean {
  if (path.length === 0) return key === 'status';
  return path.length === 1 && path[0] === 'metadata' && IGNORED_METADATA.has(key);
}

/**
 * Values the API server stores as "absent": null, Go zero values (which `omitempty` drops), empty
 * lists, and maps holding only such values.
 */
function isUnset(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(isUnset);
  return false;
}

function scalarEqual(desired: unknown, live: unknown, path: string[]): boolean {
  if (desired === live) return true;
  // int-or-string: 1 and "1" are the same port or surge.
  if (typeof desired === 'number' && typeof live === 'string') return String(desired) === live;
  if (typeof desired === 'string' && typeof live === 'number') return desired === String(live);
  if (typeof desired === 'string' && typeof live === 'string' && isQuantityPath(path)) {
    const a = parseQuantity(desired);
    return a !== undefined && a === parseQuantity(live);
  }
  return false;
}

function isQuantityPath(path: string[]): boolean {
  const key = path.at(-1) ?? '';
  const parent = path.at(-2) ?? '';
  return QUANTITY_MAPS.has(parent) || QUANTITY_FIELDS.has(key);
}

const DECIMAL_SUFFIXES: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const QUANTITY = /^([+-]?)(\d*)(?:\.(\d*))?(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/**
 * A Kubernetes quantity ("500m", "0.5", "1Gi", "1e3") as an exact count of nano-units, rounded up like the
 * API server rounds; undefined when `text` is not a quantity.
 */
export function parseQuantity(text: string): bigint | undefined {
  const match = QUANTITY.exec(text.trim());
  if (match === null) return undefined;
  const [, sign = '', whole = '', fraction = '', exponent, suffix = ''] = match;
  if (whole === '' && fraction === '') return undefined;
  let numerator = BigInt(`${whole}${fraction}` || '0');
  // value = numerator * 10^decimalExponent * 2^binaryExponent; nano-units = value * 10^9.
  let decimalExponent = 9 - fraction.length;
  let binaryExponent = 0;
  if (exponent !== undefined) decimalExponent += Number(exponent.slice(1));
  else if (suffix in BINARY_SUFFIXES) binaryExponent = BINARY_SUFFIXES[suffix] ?? 0;
  else decimalExponent += DECIMAL_SUFFIXES[suffix] ?? 0;
  numerator *= 2n ** BigInt(binaryExponent);
  if (decimalExponent >= 0) numerator *= 10n ** BigInt(decimalExponent);
  else {
    const divisor = 10n ** BigInt(-decimalExponent);
    numerator = (numerator + divisor - 1n) / divisor;
  }
  return sign === '-' ? -numerator : numerator;
}

function render(path: string[]): string {
  return path.join('.');
}
