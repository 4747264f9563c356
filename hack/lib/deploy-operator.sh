# shellcheck shell=bash
# deploy_operator IMAGE: the operator in-cluster, the way users deploy it (kubectl apply -k
# config/default), with its image set to IMAGE, then waits for its rollout. Sourced by hack/up.sh and
# hack/e2e-real.sh; needs KUBECONFIG and kubectl.
deploy_operator() {
  local image=$1
  kubectl apply --server-side -k config/default >&2
  kubectl wait --for condition=Established --timeout=60s crd/helloworlds.hello.dev >&2
  kubectl set image deployment/helloworld-operator -n helloworld-system operator="$image" >&2
  kubectl rollout status deployment/helloworld-operator -n helloworld-system --timeout=180s >&2
}

# operator_logs_on_failure STATUS: when STATUS is not 0 and the operator is deployed, its last log lines
# on stderr (for the exit traps of hack/e2e-real.sh and hack/e2e-kind.sh).
operator_logs_on_failure() {
  if [ "$1" -ne 0 ] && kubectl get deployment/helloworld-operator -n helloworld-system >/dev/null 2>&1; then
    echo "failed (exit $1); the operator's last log lines:" >&2
    kubectl logs -n helloworld-system deployment/helloworld-operator --tail=50 --all-containers >&2 || true
  fi
}
