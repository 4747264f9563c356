import type { V1Service } from '@kubernetes/client-node';
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
