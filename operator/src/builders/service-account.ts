/**
 * The ServiceAccount the API pods run as. With `create: true` the HelloWorld owns one named after itself,
 * carrying the user's annotations (a cloud role for workload identity); with `name` the pods run as the
 * user's own, which the operator never writes.
 */
import type { V1ServiceAccount } from '@kubernetes/client-node';
import { hashObject } from '../runtime/hash.js';
import type { ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import type { HelloWorld } from '../crd/types.js';
import { childMeta, createdServiceAccountName } from './meta.js';

/** The ServiceAccount to create, or undefined when the spec does not ask for one. */
export function buildServiceAccount(hw: HelloWorld, spec: ResolvedSpec): V1ServiceAccount | undefined {
  const account = spec.serviceAccount;
  if (account?.create !== true) return undefined;
  const meta = childMeta(hw, createdServiceAccountName(hw), 'api');
  const annotations = Object.keys(account.annotations).length > 0 ? { annotations: account.annotations } : {};
  return {
    ...typeMeta(KINDS.ServiceAccount),
    metadata: { ...meta, ...annotations },
    // Any other pod that runs as it gets no API token either unless it asks; the API pods decide by
    // spec.serviceAccount.automountToken (the pod's setting wins over this one).
    automountServiceAccountToken: false,
  };
}

/** The name the API pods run as; undefined keeps the pod template as it was before the field existed. */
export function podServiceAccountName(hw: HelloWorld, spec: ResolvedSpec): string | undefined {
  const account = spec.serviceAccount;
  if (account === undefined) return undefined;
  return account.create ? createdServiceAccountName(hw) : account.name;
}

/** Pod annotation whose change rolls the pods when the created ServiceAccount's annotations change. */
export const SERVICE_ACCOUNT_CHECKSUM_ANNOTATION = 'hello.dev/service-account-checksum';

/**
 * The pod annotations that tie the pods to the created ServiceAccount's annotations: identity webhooks
 * (IRSA's sets AWS_ROLE_ARN) read them when a pod is created, so a new role must reach new pods.
 * Empty without created annotations, so no other template changes.
 */
export function serviceAccountPodAnnotations(spec: ResolvedSpec): Record<string, string> {
  const account = spec.serviceAccount;
  if (account?.create !== true || Object.keys(account.annotations).length === 0) return {};
  return { [SERVICE_ACCOUNT_CHECKSUM_ANNOTATION]: hashObject(account.annotations) };
}
