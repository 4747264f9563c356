#!/usr/bin/env bash
# `make e2e-real`: the e2e suite (test/e2e/) on the local cluster with a real node (CLUSTER_NODE=real
# hack/cluster.sh up: containerd, kubelet, kube-proxy and CoreDNS on this host), the operator deployed
# in-cluster with the Helm chart and the images of hack/images.sh, and real pods. The kind path without kind:
#
#   1. the cluster with its real node (the images are built, cached, and loaded into its containerd)
#   2. the operator from the Helm chart (charts/helloworld-operator, helm upgrade --install with its
#      default values, which render the objects of config/default), image IMG_OPERATOR; DEPLOY_METHOD=
#      kustomize deploys config/default instead (make e2e, on kind, always does)
#   3. npm run test:e2e with E2E_OPERATOR=in-cluster (the suite sees from the nodes that pods are real)
#   4. the cluster is torn down (bridge, iptables rules, mounts, processes), unless KEEP=1
#
# Needs root, Docker, and the Debian packages named by hack/lib/real-node.sh. Extra arguments go to
# Jest. A simulated cluster running in .cluster/ is replaced. See docs/e2e.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# A plain assignment (PATH is exported already), so that set -e stops here when Node 24 cannot be had.
PATH="$("$root/hack/ensure-node.sh"):$PATH"
# A kubectl supported against the cluster's release (a plain assignment, so that set -e stops here
# when there is none and it cannot be built).
PATH="$("$root/hack/ensure-kubectl.sh"):$PATH"

img_api=${IMG_API:-helloworld-api:dev}
img_operator=${IMG_OPERATOR:-helloworld-operator:dev}
export KUBECONFIG=$root/.cluster/kubeconfig

log() { echo "e2e-real: $*" >&2; }

# shellcheck source=hack/lib/deploy-operator.sh
. hack/lib/deploy-operator.sh
start=$(date +%s)
cleanup() {
  local status=$?
  operator_logs_on_failure "$status"
  if [ "${KEEP:-0}" = 1 ]; then
    log "KEEP=1: the cluster is kept; export KUBECONFIG=$KUBECONFIG  (hack/cluster.sh down)"
  else
    hack/cluster.sh down >&2 || true
  fi
  log "finished in $(($(date +%s) - start)) s (exit $status)"
}
trap cleanup EXIT

log "building (tsc -b)"
npx tsc -b

# 1. The cluster with its real node.
IMG_API=$img_api IMG_OPERATOR=$img_operator CLUSTER_NODE=real hack/cluster.sh up
kubectl get nodes -o wide >&2

# 2. The operator, as a user deploys it: with the chart, so that an install with it is proven on real pods
# (the kind e2e proves config/default; hack/helm-chart.test.ts keeps the two equal).
export DEPLOY_METHOD=${DEPLOY_METHOD:-helm}
log "deploying the operator ($DEPLOY_METHOD, image $img_operator)"
deploy_operator "$img_operator"

# 3. The suite, against this cluster only.
export KUBECONFIG_TEST=$KUBECONFIG
export E2E_API_IMAGE=$img_api
export E2E_REDIS_IMAGE=helloworld-local/redis:7
# shellcheck source=hack/lib/e2e-suite.sh
. hack/lib/e2e-suite.sh
run_e2e_suite in-cluster "$@"
