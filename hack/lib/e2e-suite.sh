# shellcheck shell=bash
# run_e2e_suite WHERE [JEST ARGS…]: the e2e suite (test/e2e/, `npm run test:e2e`) against the cluster
# of KUBECONFIG_TEST (or the local one), with the operator WHERE (local: a process per test file;
# in-cluster: deployed beforehand). Prints how long it took; returns the suite's exit status. Sourced by
# hack/e2e-local.sh, hack/e2e-real.sh and hack/e2e-kind.sh, which set E2E_API_IMAGE and the like.
run_e2e_suite() {
  local where=$1 started=$SECONDS status=0
  shift
  export E2E_OPERATOR=$where
  export E2E_BUILT=1
  E2E_STARTED_AT=$(($(date +%s) * 1000))
  export E2E_STARTED_AT
  # The local cluster keeps etcd's data in .cluster/; its *.snap files are not Jest snapshots.
  npm run --silent test:e2e -- "$@" --modulePathIgnorePatterns='<rootDir>/.cluster/' || status=$?
  echo "e2e: suite finished in $((SECONDS - started)) s (exit $status)" >&2
  return "$status"
}
