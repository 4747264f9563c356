// The one Kubernetes release the project pins: the k8s.io/kubernetes version that the wrapper module
// hack/tools/kubernetes/go.mod requires (the local cluster's binaries and kubectl are built from it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The pinned Kubernetes release, e.g. "v1.37.2", `root` being the repository's root directory. */
export function pinnedKubernetesVersion(root: string): string {
  const goMod = readFileSync(join(root, 'hack/tools/kubernetes/go.mod'), 'utf8');
  const match = /^\s*(?:require\s+)?k8s\.io\/kubernetes (v\d+\.\d+\.\d+)\b/m.exec(goMod);
  if (match?.[1] === undefined) {
    throw new Error('hack/tools/kubernetes/go.mod does not require k8s.io/kubernetes');
  }
  return match[1];
}
