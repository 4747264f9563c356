// Where hack/cluster.sh keeps the local cluster's state (kubeconfig, pids, logs): CLUSTER_STATE_DIR
// when set, else .cluster in the repository, as the script reads it. Node built-ins only: the Jest
// globalSetup and globalTeardown load it outside Jest's module system.

/** The cluster's state directory, `root` being the repository's root directory. */
export function clusterStateDir(root: string): string {
  const dir = process.env.CLUSTER_STATE_DIR;
  return dir !== undefined && dir !== '' ? dir : `${root.replace(/\/$/, '')}/.cluster`;
}
