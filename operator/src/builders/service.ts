import type { KubernetesObject, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import { selectorLabels } from '../crd/labels.js';
import type { HelloWorld } from '../crd/types.js';
import { childMeta } from './meta.js';

/** The API's Service: `service.port` → the container's named `http` port. */
export function buildService(hw: HelloWorld, spec: ResolvedSpec): V1Service {
  return {
    ...typeMeta(KINDS.Service),
    metadata: childMeta(hw, hw.metadata.name, 'api'),
    spec: {
      type: spec.service.type,
      selector: selectorLabels(hw, 'api'),
      ports: [{ name: 'http', port: spec.service.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/**
 * The ports to put back whole when someone changed the number of one of the desired ports: a port is
 * keyed by number and protocol, so server-side apply would add the desired entry beside the edited
 * one, and the API server refuses two ports of one name. Undefined when apply can repair the drift.
 */
export function servicePortsToReplace(
  desired: KubernetesObject,
  live: KubernetesObject | undefined,
): V1ServicePort[] | undefined {
  if (desired.kind !== 'Service' || live === undefined) return undefined;
  const wanted = (desired as V1Service).spec?.ports ?? [];
  const current = (live as V1Service).spec?.ports ?? [];
  const renumbered = wanted.some((w) =>
    current.some(
      (c) => c.name === w.name && (c.port !== w.port || (c.protocol ?? 'TCP') !== (w.protocol ?? 'TCP')),
    ),
  );
  return renumbered ? wanted : undefined;
}
