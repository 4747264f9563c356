/**
 * The user's own ServiceAccount (spec.serviceAccount.name) must exist before the API pods are changed to
 * run as it: the API server refuses pods of a ServiceAccount that does not exist, so the ReplicaSet would
 * create none and the rollout would fail at its deadline without saying why.
 */
import type { ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import type { HelloWorld } from '../crd/types.js';
import { Reason } from '../rollout/conditions.js';
import type { ChildReads } from './child-reads.js';

/** Why the pods cannot run as the ServiceAccount the spec names, or undefined when they can. */
export async function serviceAccountBlock(
  reads: ChildReads,
  hw: HelloWorld,
  spec: ResolvedSpec,
): Promise<{ reason: string; message: string } | undefined> {
  const account = spec.serviceAccount;
  if (account === undefined || account.create) return undefined;
  // Not the operator's object, so not cached: read live, once per reconcile.
  const found = await reads.find({ ...typeMeta(KINDS.ServiceAccount), name: account.name });
  if (found !== undefined) return undefined;
  return {
    reason: Reason.ServiceAccountNotFound,
    message:
      `ServiceAccount ${account.name} (spec.serviceAccount.name) does not exist in namespace ` +
      `${hw.metadata.namespace}: create it, or set spec.serviceAccount.create: true for one the HelloWorld ` +
      'owns; the API pods are not changed until it exists',
  };
}
