// Jest globalTeardown of the integration and e2e projects: stops the local cluster when this test
// run's globalSetup started it (see cluster-global-setup.ts). A cluster that was already running,
// or one given by KUBECONFIG_TEST, is left alone. KEEP_CLUSTER=1 keeps it running for debugging.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { repoRoot } from './cluster.js';
import { startedByTestsMarker } from './cluster-global-setup.js';

export default function globalTeardown(): void {
  if (!existsSync(startedByTestsMarker)) {
    return;
  }
  if (process.env.KEEP_CLUSTER === '1') {
    rmSync(startedByTestsMarker, { force: true });
    process.stderr.write('\ncluster-global-teardown: KEEP_CLUSTER=1, leaving the local cluster running\n');
    return;
  }
  const result = spawnSync(`${repoRoot}hack/cluster.sh`, ['down'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`hack/cluster.sh down failed (exit ${String(result.status ?? result.signal)})`);
  }
}
