// Jest globalSetup of the integration and e2e projects: makes sure a Kubernetes cluster is
// available for the tests and exports its kubeconfig as KUBECONFIG_TEST (and KUBECONFIG, so that
// code under test that loads the default kubeconfig never reaches the developer's own cluster).
//
// - KUBECONFIG_TEST set: that cluster is used as it is; it must be ready.
// - The local cluster (.cluster/kubeconfig) is up and ready: it is reused and left running.
// - Otherwise `hack/cluster.sh up` starts it (building the binaries on a cold machine) and a
//   marker file records that this test run started it, so that the globalTeardown stops it again.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { isClusterReady, kubeconfigPath, loadKubeConfig, localKubeconfigPath, repoRoot } from './cluster.js';

/** Written by globalSetup when it started the cluster; globalTeardown stops the cluster only then. */
export const startedByTestsMarker = `${repoRoot}.cluster/started-by-tests`;

function exportKubeconfig(path: string): void {
  process.env.KUBECONFIG_TEST = path;
  process.env.KUBECONFIG = path;
}

export default async function globalSetup(): Promise<void> {
  const explicit = process.env.KUBECONFIG_TEST;
  if (explicit !== undefined && explicit !== '') {
    if (!(await isClusterReady(loadKubeConfig(explicit), 10_000))) {
      throw new Error(`KUBECONFIG_TEST=${explicit}: the API server is not ready (/readyz)`);
    }
    exportKubeconfig(explicit);
    return;
  }
  if (existsSync(localKubeconfigPath) && (await isClusterReady(loadKubeConfig(localKubeconfigPath)))) {
    // Someone else's cluster (or one kept with KEEP_CLUSTER=1): this run must not stop it.
    rmSync(startedByTestsMarker, { force: true });
    exportKubeconfig(localKubeconfigPath);
    return;
  }
  process.stderr.write('\ncluster-global-setup: starting the local cluster (hack/cluster.sh up)\n');
  const result = spawnSync(`${repoRoot}hack/cluster.sh`, ['up'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(
      `hack/cluster.sh up failed (exit ${String(result.status ?? result.signal)}); ` +
        `component logs are in ${repoRoot}.cluster/logs/`,
    );
  }
  writeFileSync(startedByTestsMarker, `${String(process.pid)}\n`);
  exportKubeconfig(kubeconfigPath());
}
