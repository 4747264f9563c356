// Jest globalTeardown of the integration and e2e projects: stops the local cluster when this test
// run's globalSetup started it (see cluster-global-setup.ts). A cluster that was already running,
// or one given by KUBECONFIG_TEST, is left alone. KEEP_CLUSTER=1 keeps it running for debugging.
// Like the globalSetup, it imports only Node built-ins and ./cluster-state.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

const { clusterStateDir } = (await import(
  new URL('./cluster-state.ts', import.meta.url).href
)) as typeof import('./cluster-state.js');

export default function globalTeardown(): void {
  const root = process.cwd();
  const marker = `${clusterStateDir(root)}/started-by-tests`;
  if (!existsSync(marker)) {
    return;
  }
  if (process.env.KEEP_CLUSTER === '1') {
    rmSync(marker, { force: true });
    process.stderr.write('\ncluster-global-teardown: KEEP_CLUSTER=1, leaving the local cluster running\n');
    return;
  }
  const result = spawnSync(`${root}/hack/cluster.sh`, ['down'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`hack/cluster.sh down failed (exit ${String(result.status ?? result.signal)})`);
  }
}
