/**
 * What `kubectl hw` shows of a HelloWorld, read from the object as the API server returns it.
 *
 * The status is hostile input: the status subresource can be written by anyone allowed to, and older
 * HelloWorlds lack the newer fields. Every field is read on its own and anything of the wrong type counts
 * as absent, so a broken status shows as missing parts instead of a crash. Strings are kept as they are
 * here; whoever prints them to a terminal passes them through `printable` (text.ts).
 */
import { ANNOTATION_ABORT, ANNOTATION_PAUSE, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from '../crd/types.js';

export interface CanaryView {
  revision?: string;
  /** 0-based, as in status.canary. */
  stepIndex?: number;
  steps?: number;
  stepStartedAt?: string;
  replicas?: number;
  readyReplicas?: number;
  stableReplicas?: number;
  pausedAt?: string;
  message?: string;
}

export interface VerificationView {
  revision?: string;
  startedAt?: string;
  smokePassed?: boolean;
  analysisStartedAt?: string;
  measurements?: number;
  consecutiveFailures?: number;
  noDataMeasurements?: number;
  lastMeasurementAt?: string;
  lastMessage?: string;
  probing?: boolean;
  /** status.verification.comparison flattened to `path: value` pairs (its shape is the comparison's own). */
  comparison?: [string, string | number | boolean | null][];
}

/** Every field of these is shown as text, whatever type the status holds there. */
const CONDITION_FIELDS = ['type', 'status', 'reason', 'message'] as const;
const HISTORY_FIELDS = ['revision', 'image', 'startTime', 'endTime', 'outcome', 'reason', 'summary'] as const;
const ROLLBACK_FIELDS = [
  'fromRevision',
  'toRevision',
  'fromImage',
  'toImage',
  'reason',
  'message',
  'time',
] as const;

export type ConditionView = Record<(typeof CONDITION_FIELDS)[number], string>;
export type HistoryView = Record<(typeof HISTORY_FIELDS)[number], string>;
export type RollbackView = Record<(typeof ROLLBACK_FIELDS)[number], string>;

export interface HelloWorldView {
  name: string;
  namespace: string;
  generation?: number;
  observedGeneration?: number;
  image?: string;
  strategy: string;
  /** The spec's steps, each as one word and its argument, e.g. `canary 50%`, `verify`, `pause 2m`. */
  steps: string[];
  phase?: string;
  currentRevision?: string;
  stableRevision?: string;
  stableImage?: string;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  /** The user's gate annotations as set now, and the values the operator has acted on. */
  annotations: { promote?: string; pause?: string; abort?: string; retry?: string };
  observed: { promote?: string; abort?: string; retry?: string };
  pausedAt?: string;
  canary?: CanaryView;
  verification?: VerificationView;
  lastRollback?: RollbackView;
  conditions: ConditionView[];
  history: HistoryView[];
}

type Json = Record<string, unknown>;

const record = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
const flag = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const present = (value: Json): boolean => Object.keys(value).length > 0;
/** The named fields of an object, each as a string ('' when absent or not a string). */
const strings = <K extends string>(value: Json, keys: readonly K[]): Record<K, string> =>
  Object.fromEntries(keys.map((key) => [key, text(value[key]) ?? ''])) as Record<K, string>;
/** The first MAX_ENTRIES entries of a list (none when it is not one), each read as strings. */
const entries = <K extends string>(value: unknown, keys: readonly K[]): Record<K, string>[] =>
  list(value)
    .slice(0, MAX_ENTRIES)
    .map((entry) => strings(record(entry), keys));

/** Most entries of a list the view keeps: the CRD allows 50 history entries; a hostile status more. */
const MAX_ENTRIES = 50;
/** Most `path: value` pairs taken from status.verification.comparison, and how deep it is followed. */
const MAX_COMPARISON_FIELDS = 40;
const MAX_COMPARISON_DEPTH = 4;

export function readView(object: unknown): HelloWorldView {
  const metadata = record(record(object).metadata);
  const spec = record(record(object).spec);
  const rollout = record(spec.rollout);
  const status = record(record(object).status);
  const annotations = record(metadata.annotations);
  const canary = record(status.canary);
  const verification = record(status.verification);
  const rollback = record(status.lastRollback);
  return {
    name: text(metadata.name) ?? '',
    namespace: text(metadata.namespace) ?? '',
    generation: count(metadata.generation),
    observedGeneration: count(status.observedGeneration),
    image: text(spec.image),
    strategy: text(rollout.strategy) ?? 'Rolling',
    steps: list(rollout.steps).slice(0, MAX_ENTRIES).map(describeStep),
    phase: text(status.phase),
    currentRevision: text(status.currentRevision),
    stableRevision: text(status.stableRevision),
    stableImage: text(status.stableImage),
    replicas: count(status.replicas),
    readyReplicas: count(status.readyReplicas),
    updatedReplicas: count(status.updatedReplicas),
    annotations: {
      promote: text(annotations[ANNOTATION_PROMOTE]),
      pause: text(annotations[ANNOTATION_PAUSE]),
      abort: text(annotations[ANNOTATION_ABORT]),
      retry: text(annotations[ANNOTATION_RETRY]),
    },
    observed: {
      promote: text(status.observedPromote),
      abort: text(status.observedAbort),
      retry: text(status.observedRetry),
    },
    pausedAt: text(status.pausedAt) ?? text(canary.pausedAt),
    canary: present(canary) ? readCanary(canary) : undefined,
    verification: present(verification) ? readVerification(verification) : undefined,
    lastRollback: present(rollback) ? strings(rollback, ROLLBACK_FIELDS) : undefined,
    conditions: entries(status.conditions, CONDITION_FIELDS),
    history: entries(status.history, HISTORY_FIELDS),
  };
}

function readCanary(canary: Json): CanaryView {
  return {
    revision: text(canary.revision),
    stepIndex: count(canary.stepIndex),
    steps: count(canary.steps),
    stepStartedAt: text(canary.stepStartedAt),
    replicas: count(canary.replicas),
    readyReplicas: count(canary.readyReplicas),
    stableReplicas: count(canary.stableReplicas),
    pausedAt: text(canary.pausedAt),
    message: text(canary.message),
  };
}

function readVerification(v: Json): VerificationView {
  const comparison = record(v.comparison);
  return {
    revision: text(v.revision),
    startedAt: text(v.startedAt),
    smokePassed: flag(v.smokePassed),
    analysisStartedAt: text(v.analysisStartedAt),
    measurements: count(v.measurements),
    consecutiveFailures: count(v.consecutiveFailures),
    noDataMeasurements: count(v.noDataMeasurements),
    lastMeasurementAt: text(v.lastMeasurementAt),
    lastMessage: text(v.lastMessage),
    probing: flag(v.probing),
    comparison: present(comparison) ? flatten(comparison) : undefined,
  };
}

/** One spec step as a word and its argument; anything unrecognised shows as `?`. */
export function describeStep(step: unknown): string {
  const s = record(step);
  if ('canary' in s) {
    const replicas = record(s.canary).replicas;
    return typeof replicas === 'number' || typeof replicas === 'string' ? `canary ${replicas}` : 'canary';
  }
  if ('verify' in s) return 'verify';
  if ('pause' in s) {
    const pause = record(s.pause);
    const duration = text(pause.duration);
    const timeout = text(pause.timeout);
    const onTimeout = text(pause.onTimeout) ?? 'Rollback';
    if (duration !== undefined) return `pause ${duration}`;
    return timeout === undefined
      ? 'pause until promoted'
      : `pause until promoted (${onTimeout} after ${timeout})`;
  }
  return '?';
}

/** The scalar leaves of a JSON value as `a.b[0].c` paths, breadth bounded so a huge value stays short. */
export function flatten(value: unknown): [string, string | number | boolean | null][] {
  const out: [string, string | number | boolean | null][] = [];
  const walk = (node: unknown, path: string, depth: number): void => {
    if (out.length >= MAX_COMPARISON_FIELDS) return;
    if (node === null || typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
      out.push([path, node]);
      return;
    }
    if (depth >= MAX_COMPARISON_DEPTH || typeof node !== 'object') return;
    const entries = Array.isArray(node)
      ? node.map((item, i) => [`${path}[${i}]`, item] as const)
      : Object.entries(node as Json).map(
          ([key, item]) => [path === '' ? key : `${path}.${key}`, item] as const,
        );
    for (const [childPath, child] of entries) walk(child, childPath, depth + 1);
  };
  walk(value, '', 0);
  return out;
}
