/**
 * The one place for the marks the operator puts on what it owns: the labels of every child (and the
 * selectors built from them), the name it acts under (field manager, Event source, managed-by label),
 * and the annotation carrying the hash of each applied object.
 */
import type { HelloWorld } from './types.js';

/** The operator's name: the managed-by label value, the server-side apply field manager, the Event source. */
export const OPERATOR_NAME = 'helloworld-operator';
export const FIELD_MANAGER = OPERATOR_NAME;
/** The hash of each applied object (runtime/apply-diff.ts), so any desired change shows as one field. */
export const DESIRED_HASH_ANNOTATION = 'hello.dev/desired-hash';

/** The Kubernetes recommended labels the operator sets on its children. */
export const NAME_LABEL = 'app.kubernetes.io/name';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

export const APP_NAME = 'helloworld';
export const MANAGED_BY = OPERATOR_NAME;
/** Children are watched through this selector, so the caches hold only the operator's own objects. */
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

/** What a child is part of: the API, the managed Redis, or the Redis backups (CronJob, pods, claim). */
export type Component = 'api' | 'redis' | 'redis-backup';

/** The immutable labels a Deployment or StatefulSet selects its pods by. */
export function selectorLabels(hw: HelloWorld, component: Component): Record<string, string> {
  return {
    [NAME_LABEL]: APP_NAME,
    [INSTANCE_LABEL]: hw.metadata.name,
    [COMPONENT_LABEL]: component,
  };
}

export function labels(hw: HelloWorld, component: Component): Record<string, string> {
  return { ...selectorLabels(hw, component), [MANAGED_BY_LABEL]: MANAGED_BY };
}

export function selectorString(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * Carried by the canary Deployment's pods and selector only: the stable Deployment's selector (immutable,
 * without it) still matches them, so the Service sends them their share, but the canary Deployment never
 * selects the stable pods.
 */
export const TRACK_LABEL = 'hello.dev/track';
export const CANARY_TRACK = 'canary';
