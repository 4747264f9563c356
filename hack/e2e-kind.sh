#!/usr/bin/env bash
# `make e2e`: the e2e suite (test/e2e/) on a throw-away kind cluster, with the operator deployed
# in-cluster from config/ and real pods. Needs Docker and kind on a host with internet access (base
# images, metrics-server); kubectl comes from hack/ensure-kubectl.sh. See docs/e2e.md.
#
#   1. kind create cluster from test/e2e/kind-config.yaml, node image KIND_NODE_IMAGE (pinned by digest)
#   2. make docker-build: the API and operator images
#   3. kind load docker-image: both images into every node (nothing is pushed to a registry)
#   4. metrics-server, pinned by version, unless the cluster already serves metrics.k8s.io
#   5. kubectl apply -k config/default, with the operator image set to IMG_OPERATOR
#   6. npm run test:e2e with E2E_OPERATOR=in-cluster (the suite sees from the nodes that pods are real)
#   7. kind delete cluster, unless KEEP=1
#
# Environment: KIND_NODE_IMAGE (required; the Makefile sets it), KIND_CLUSTER (default
# helloworld-e2e), IMG_API, IMG_OPERATOR, METRICS_SERVER_VERSION, KEEP=1. Extra arguments go to Jest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# A plain assignment (PATH is exported already), so that set -e stops here when Node 24 cannot be had.
PATH="$("$root/hack/ensure-node.sh"):$PATH"
# A kubectl supported against the pinned release, which the kind node image matches (a plain
# assignment, so that set -e stops here when there is none and it cannot be built).
PATH="$("$root/hack/ensure-kubectl.sh"):$PATH"

cluster=${KIND_CLUSTER:-helloworld-e2e}
node_image=${KIND_NODE_IMAGE:?set KIND_NODE_IMAGE, e.g. through make e2e}
img_api=${IMG_API:-helloworld-api:dev}
img_operator=${IMG_OPERATOR:-helloworld-operator:dev}
metrics_server_version=${METRICS_SERVER_VERSION:-v0.8.1}
kubeconfig=${KIND_KUBECONFIG:-${TMPDIR:-/tmp}/$cluster.kubeconfig}
export KUBECONFIG=$kubeconfig

log() { echo "e2e-kind: $*" >&2; }
die() {
  log "$*"
  exit 1
}

for tool in docker kind; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH (docs/e2e.md lists the versions; kind: go install sigs.k8s.io/kind@v0.33.0)"
done

# shellcheck source=hack/lib/deploy-operator.sh
. hack/lib/deploy-operator.sh
start=$(date +%s)
cleanup() {
  local status=$?
  operator_logs_on_failure "$status"
  if [ "${KEEP:-0}" = 1 ]; then
    log "KEEP=1: cluster $cluster kept; export KUBECONFIG=$kubeconfig  (kind delete cluster --name $cluster)"
  else
    log "deleting cluster $cluster"
    kind delete cluster --name "$cluster" --kubeconfig "$kubeconfig" >&2 || true
  fi
  log "finished in $(($(date +%s) - start)) s (exit $status)"
}
trap cleanup EXIT

# 1. The cluster (reused when a kept one of the same name exists).
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  log "reusing cluster $cluster"
  kind export kubeconfig --name "$cluster" --kubeconfig "$kubeconfig" >&2
else
  log "creating cluster $cluster ($node_image)"
  kind create cluster --name "$cluster" --image "$node_image" --config test/e2e/kind-config.yaml \
    --kubeconfig "$kubeconfig" --wait 180s >&2
fi
kubectl get nodes -L topology.kubernetes.io/zone >&2

# 2 and 3. The images, built here and loaded into the nodes; imagePullPolicy IfNotPresent uses them.
log "building $img_api and $img_operator"
make --no-print-directory docker-build IMG_API="$img_api" IMG_OPERATOR="$img_operator" >&2
kind load docker-image --name "$cluster" "$img_api" "$img_operator" >&2

# 4. metrics-server, for the HPA's CPU metrics. The kubelets of kind serve self-signed certificates.
if kubectl get apiservice v1beta1.metrics.k8s.io >/dev/null 2>&1; then
  log "metrics.k8s.io is served already; not installing metrics-server"
else
  log "installing metrics-server $metrics_server_version"
  kubectl apply --server-side \
    -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/$metrics_server_version/components.yaml" >&2
  kubectl patch deployment metrics-server -n kube-system --type=json \
    -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]' >&2
  kubectl rollout status deployment/metrics-server -n kube-system --timeout=180s >&2
fi

# 5. The operator, as a user deploys it.
log "deploying the operator (config/default, image $img_operator)"
deploy_operator "$img_operator"

# 6. The suite, against this cluster only (the globalSetup checks it is ready).
export KUBECONFIG_TEST=$kubeconfig
export E2E_API_IMAGE=$img_api
# shellcheck source=hack/lib/e2e-suite.sh
. hack/lib/e2e-suite.sh
run_e2e_suite in-cluster "$@"
