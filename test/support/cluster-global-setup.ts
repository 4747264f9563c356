// Jest globalSetup of the integration and e2e projects: makes sure a Kubernetes cluster is
// available for the tests and exports its kubeconfig as KUBECONFIG_TEST (and KUBECONFIG, so that
// code under test that loads the default kubeconfig never reaches the developer's own cluster).
//
// - KUBECONFIG_TEST set: that cluster is used as it is; it must be ready.
// - The local cluster (.cluster/kubeconfig, or CLUSTER_STATE_DIR's) is up and ready: it is reused
//   and left running.
// - Otherwise `hack/cluster.sh up` starts it (building the binaries on a cold machine) and a
//   marker file records that this test run started it, so that the globalTeardown stops it again.
//
// The tests run kubectl as a user does: a kubectl supported against the pinned Kubernetes release
// goes first on PATH (hack/ensure-kubectl.sh: the machine's, or one built from the pinned module).
//
// Jest loads this file outside its module system (Node strips the types), so it imports only
// Node built-ins, packages and ./cluster-state.ts (by its .ts name), not ./cluster.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Health, KubeConfig } from '@kubernetes/client-node';

const { clusterStateDir } = (await import(
  new URL('./cluster-state.ts', import.meta.url).href
)) as typeof import('./cluster-state.js');

async function ready(kubeconfig: string, timeoutMs: number): Promise<boolean> {
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    return await new Health(kc).readyz({ timeout: timeoutMs });
  } catch {
    return false;
  }
}

function exportKubeconfig(path: string): void {
  process.env.KUBECONFIG_TEST = path;
  process.env.KUBECONFIG = path;
}

function useSupportedKubectl(root: string): void {
  const result = spawnSync(`${root}/hack/ensure-kubectl.sh`, [], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(
      `hack/ensure-kubectl.sh found no supported kubectl and could not build one ` +
        `(exit ${String(result.status ?? result.signal)}; its message is above)`,
    );
  }
  process.env.PATH = `${result.stdout.trim()}:${process.env.PATH ?? ''}`;
}

export default async function globalSetup(): Promise<void> {
  // Jest runs with the repository as its working directory.
  const root = process.cwd();
  useSupportedKubectl(root);
  const explicit = process.env.KUBECONFIG_TEST;
  if (explicit !== undefined && explicit !== '') {
    if (!(await ready(explicit, 10_000))) {
      throw new Error(`KUBECONFIG_TEST=${explicit}: the API server is not ready (/readyz)`);
    }
    exportKubeconfig(explicit);
    return;
  }
  const state = clusterStateDir(root);
  const kubeconfig = `${state}/kubeconfig`;
  const marker = `${state}/started-by-tests`;
  if (existsSync(kubeconfig) && (await ready(kubeconfig, 3000))) {
    // Started by this run's globalSetup of another project (integration and e2e both have it):
    // keep the marker. Otherwise it is someone else's cluster, or one kept with KEEP_CLUSTER=1,
    // and a marker left by an interrupted run must not make this run stop it.
    if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== String(process.pid)) {
      rmSync(marker, { force: true });
    }
    exportKubeconfig(kubeconfig);
    return;
  }
  process.stderr.write('\ncluster-global-setup: starting the local cluster (hack/cluster.sh up)\n');
  const result = spawnSync(`${root}/hack/cluster.sh`, ['up'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(
      `hack/cluster.sh up failed (exit ${String(result.status ?? result.signal)}); ` +
        `component logs are in ${state}/logs/`,
    );
  }
  writeFileSync(marker, `${String(process.pid)}\n`);
  exportKubeconfig(kubeconfig);
}
