# shellcheck shell=bash
# deploy_operator IMAGE: the operator in-cluster, the way users deploy it, with its image set to IMAGE,
# then waits for its rollout. Sourced by hack/up.sh, hack/e2e-real.sh and hack/e2e-kind.sh; needs
# KUBECONFIG and kubectl. DEPLOY_METHOD chooses the way:
#
#   kustomize (default)  kubectl apply --server-side -k config/default
#   helm                 helm upgrade --install of charts/helloworld-operator (release helloworld-operator),
#                        with its default values: the objects of config/default (hack/helm-chart.test.ts)
#
# Either way the operator is the Deployment helloworld-operator in helloworld-system.
deploy_operator() {
  local image=$1
  case ${DEPLOY_METHOD:-kustomize} in
  kustomize)
    kubectl apply --server-side -k config/default >&2
    kubectl wait --for condition=Established --timeout=60s crd/helloworlds.hello.dev >&2
    kubectl set image deployment/helloworld-operator -n helloworld-system operator="$image" >&2
    kubectl rollout status deployment/helloworld-operator -n helloworld-system --timeout=180s >&2
    ;;
  helm)
    # The namespace as config/manager makes it: under the restricted Pod Security Standard.
    kubectl create namespace helloworld-system --dry-run=client -o yaml | kubectl apply --server-side -f - >&2
    kubectl label namespace helloworld-system --overwrite pod-security.kubernetes.io/enforce=restricted \
      pod-security.kubernetes.io/warn=restricted >&2
    # A cluster kept from a kustomize deploy (KEEP=1, make up) holds the same objects without Helm's
    # ownership annotations, their fields owned by kubectl: the release adopts them (--take-ownership) and
    # their fields, which hold the same values (--force-conflicts), instead of refusing to install.
    helm_install_operator helloworld-operator helloworld-system "$image" --take-ownership --force-conflicts
    kubectl wait --for condition=Established --timeout=60s crd/helloworlds.hello.dev >&2
    ;;
  *)
    echo "deploy_operator: DEPLOY_METHOD is '$DEPLOY_METHOD'; use kustomize or helm" >&2
    return 1
    ;;
  esac
}

# helm_install_operator RELEASE NAMESPACE IMAGE [HELM_ARGS...]: installs or upgrades the chart as RELEASE in
# NAMESPACE (which must exist) with the operator image IMAGE (REPOSITORY:TAG or REPOSITORY@sha256:...), and
# waits until the operator's Deployment has rolled out. HELM_ARGS go to helm (e.g. --set crds.install=false).
# Also used by test/integration/helm-install.test.ts, on the local cluster.
helm_install_operator() {
  local release=$1 namespace=$2 image=$3
  shift 3
  local helm repository tag='' digest=''
  helm=$("$(dirname "${BASH_SOURCE[0]}")/../helm.sh" --path)
  repository=$image
  if [[ $image == *@* ]]; then
    repository=${image%%@*} digest=${image#*@}
  elif [[ ${image##*/} == *:* ]]; then
    repository=${image%:*} tag=${image##*:}
  else
    tag=latest # what a container runtime pulls for an image without tag
  fi
  "$helm" upgrade --install "$release" "$(dirname "${BASH_SOURCE[0]}")/../../charts/helloworld-operator" \
    --namespace "$namespace" --set-string image.repository="$repository" \
    ${tag:+--set-string image.tag="$tag"} ${digest:+--set-string image.digest="$digest"} \
    --wait=watcher --timeout 180s "$@" >&2
}

# operator_logs_on_failure STATUS: when STATUS is not 0 and the operator is deployed, its last log lines
# on stderr (for the exit traps of hack/e2e-real.sh and hack/e2e-kind.sh).
operator_logs_on_failure() {
  if [ "$1" -ne 0 ] && kubectl get deployment/helloworld-operator -n helloworld-system >/dev/null 2>&1; then
    echo "failed (exit $1); the operator's last log lines:" >&2
    kubectl logs -n helloworld-system deployment/helloworld-operator --tail=50 --all-containers >&2 || true
  fi
}
