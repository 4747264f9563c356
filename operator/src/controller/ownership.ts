/**
 * Whose object is it? A HelloWorld writes only to objects it controls: an object of a child's name that
 * carries no controller owner reference with this HelloWorld's uid (a user's Service, another
 * HelloWorld's child, a PersistentVolumeClaim someone made) is left untouched and reported as a conflict.
 * Pure functions: the reads are in child-reads.ts, the writes in reconcile.ts.
 */
import type { KubernetesObject, V1PersistentVolumeClaim, V1StatefulSet } from '@kubernetes/client-node';
import type { HelloWorld } from '../crd/types.js';
import { selectorLabels } from '../crd/labels.js';
import { backupName } from '../builders/backup.js';
import { createdServiceAccountName, redisName, redisSecretName } from '../builders/meta.js';

/** What stands under a child's name: nothing, the HelloWorld's own object, or someone else's. */
export type Ownership =
  { state: 'absent' } | { state: 'ours'; live: KubernetesObject } | { state: 'foreign'; conflict: string };

/** `Kind/name`, the key of a child in an ownership map. */
export function childKey(kind: string | undefined, name: string | undefined): string {
  return `${kind ?? ''}/${name ?? ''}`;
}

export function keyOf(obj: KubernetesObject): string {
  return childKey(obj.kind, obj.metadata?.name);
}

export function isControlledBy(obj: KubernetesObject, hw: HelloWorld): boolean {
  const uid = hw.metadata.uid;
  return (
    uid !== undefined &&
    uid !== '' &&
    (obj.metadata?.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === uid)
  );
}

/** Who controls `obj`, for a message: "HelloWorld other (uid …)" or "no controller". */
export function describeController(obj: KubernetesObject): string {
  const controller = obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
  if (controller === undefined) return 'it has no controller';
  // The owner reference is whatever the object's author wrote: keep it short.
  const who = `${controller.kind} ${controller.name} (uid ${controller.uid})`.slice(0, 300);
  return `it is controlled by ${who}`;
}

/** Judges the object found under a child's name (undefined: the API server says there is none). */
export function judgeOwnership(hw: HelloWorld, found: KubernetesObject | undefined): Ownership {
  if (found === undefined) return { state: 'absent' };
  if (isControlledBy(found, hw)) return { state: 'ours', live: found };
  const what = `${found.kind ?? 'object'} ${found.metadata?.name ?? ''}`;
  return {
    state: 'foreign',
    conflict: `${what} exists and is not controlled by this HelloWorld: ${describeController(found)}`,
  };
}

/**
 * The claims the StatefulSet controller will use for `sts`: `<template>-<statefulset>-<ordinal>`. An
 * existing claim of such a name is used as it is, and with `whenDeleted: Delete` becomes the
 * StatefulSet's and is deleted with it: so it must be this instance's Redis volume already.
 */
export function claimNames(sts: V1StatefulSet): string[] {
  const name = sts.metadata?.name ?? '';
  const replicas = sts.spec?.replicas ?? 1;
  return (sts.spec?.volumeClaimTemplates ?? []).flatMap((template) =>
    Array.from(
      { length: replicas },
      (_, ordinal) => `${template.metadata?.name ?? ''}-${name}-${String(ordinal)}`,
    ),
  );
}

/** What a claim of each component is, for the conflict message. */
const CLAIM_ROLE = {
  redis: "this HelloWorld's Redis volume",
  'redis-backup': "this HelloWorld's backup claim",
} as const;

/**
 * A claim the HelloWorld may take without owning it: its Redis volume, as kept by `whenDeleted: Retain`
 * from an earlier HelloWorld of the same name, or its backup claim, which is never owned so that it
 * outlives the HelloWorld (builders/backup.ts). Either carries the instance's labels of that component and
 * no controller. Undefined when it may; otherwise the conflict.
 */
export function claimConflict(
  hw: HelloWorld,
  claim: V1PersistentVolumeClaim,
  component: keyof typeof CLAIM_ROLE = 'redis',
): string | undefined {
  const wanted = selectorLabels(hw, component);
  const labels = claim.metadata?.labels ?? {};
  const labelled = Object.entries(wanted).every(([key, value]) => labels[key] === value);
  const controller = claim.metadata?.ownerReferences?.find((ref) => ref.controller === true);
  if (labelled && controller === undefined) return undefined;
  const which = component === 'redis' ? 'Redis' : 'backup';
  const why = labelled ? describeController(claim) : `it does not carry this HelloWorld's ${which} labels`;
  return `PersistentVolumeClaim ${claim.metadata?.name ?? ''} exists and is not ${CLAIM_ROLE[component]}: ${why}`;
}

/** Whose claim stands under the backup claim's name: the HelloWorld's own even without an owner reference. */
export function judgeBackupClaim(hw: HelloWorld, found: V1PersistentVolumeClaim | undefined): Ownership {
  if (found === undefined) return { state: 'absent' };
  const conflict = claimConflict(hw, found, 'redis-backup');
  return conflict === undefined ? { state: 'ours', live: found } : { state: 'foreign', conflict };
}

/**
 * What each child needs to be the HelloWorld's own before it may be applied. The API Deployment: its
 * Service (or someone else's Service would route to the new pods, or the pods would serve under a name
 * that does not reach them), and with a managed Redis the password Secret it reads, the Redis Service it
 * connects to and the StatefulSet that serves there (else the API would hand its data, and the password,
 * to someone else's server), and the ServiceAccount the HelloWorld creates for its pods (else they would
 * run as someone else's, with its cloud role). The StatefulSet: the Secret holding its configuration and the
 * NetworkPolicy that keeps other pods away from its data. Autoscaler, disruption budget and monitoring:
 * the Deployment they act on. The backup CronJob: the claim it writes to and the Secret it reads.
 */
export function prerequisites(
  hw: HelloWorld,
  managedRedis: boolean,
  createdServiceAccount = false,
): (key: string) => string[] {
  const name = hw.metadata.name;
  const deployment = childKey('Deployment', name);
  const secret = childKey('Secret', redisSecretName(hw));
  const redis = redisName(hw);
  const table: Record<string, string[]> = {
    [deployment]: [
      childKey('Service', name),
      ...(managedRedis ? [secret, childKey('Service', redis), childKey('StatefulSet', redis)] : []),
      ...(createdServiceAccount ? [childKey('ServiceAccount', createdServiceAccountName(hw))] : []),
    ],
    [childKey('StatefulSet', redis)]: [secret, childKey('NetworkPolicy', redis)],
    // Backups go only to the HelloWorld's own claim, with the password of its own Secret.
    [childKey('CronJob', backupName(hw))]: [childKey('PersistentVolumeClaim', backupName(hw)), secret],
  };
  return (key) => {
    const kind = key.slice(0, key.indexOf('/'));
    if (ACTS_ON_DEPLOYMENT.has(kind)) return [deployment];
    return table[key] ?? [];
  };
}

const ACTS_ON_DEPLOYMENT = new Set([
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'ServiceMonitor',
  'PrometheusRule',
]);

export interface ChildPlan {
  /** The children to apply, in order, each with the HelloWorld's own live object (undefined: create). */
  apply: { object: KubernetesObject; live: KubernetesObject | undefined }[];
  /** One line per object that is someone else's, in the order of the desired children. */
  conflicts: string[];
  /** Children held back because something they need is someone else's (keys). */
  blocked: string[];
}

/**
 * Which desired children to apply: those whose name is free or already the HelloWorld's, and whose
 * prerequisites are applied too. `ownership` holds every desired child's key, and may hold conflicts of
 * children not in `desired` (a Secret whose password cannot be read because it is someone else's).
 */
export function planChildren(
  desired: readonly KubernetesObject[],
  ownership: ReadonlyMap<string, Ownership>,
  needs: (key: string) => string[],
): ChildPlan {
  const byKey = new Map(desired.map((obj) => [keyOf(obj), obj] as const));
  const verdict = new Map<string, boolean>();
  const applies = (key: string, seen: Set<string>): boolean => {
    const known = verdict.get(key);
    if (known !== undefined) return known;
    const own = ownership.get(key);
    const ok =
      byKey.has(key) &&
      own !== undefined &&
      own.state !== 'foreign' &&
      !seen.has(key) &&
      needs(key).every((need) => applies(need, new Set([...seen, key])));
    verdict.set(key, ok);
    return ok;
  };
  const plan: ChildPlan = { apply: [], conflicts: [], blocked: [] };
  for (const [key, own] of ownership)
    if (own.state === 'foreign' && !byKey.has(key)) plan.conflicts.push(own.conflict);
  for (const [key, object] of byKey) {
    const own = ownership.get(key);
    if (own?.state === 'foreign') plan.conflicts.push(own.conflict);
    else if (applies(key, new Set()))
      plan.apply.push({ object, live: own?.state === 'ours' ? own.live : undefined });
    else plan.blocked.push(key);
  }
  return plan;
}

/** The condition message for the conflicts: every object, and what the HelloWorld does about it. */
export function conflictMessage(plan: ChildPlan): string {
  const held =
    plan.blocked.length > 0 ? `; held back until they are resolved: ${plan.blocked.join(', ')}` : '';
  return `${plan.conflicts.join('; ')}. The operator does not write to objects it does not control: delete or rename them${held}`;
}
