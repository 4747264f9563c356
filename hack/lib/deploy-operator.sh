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
