#!/usr/bin/env bash
# `make up`: the local cluster, the operator, and a sample HelloWorld; `make down` (hack/up.sh down)
# stops it all.
#
#   UP_NODE=real       one real node on this host: real pods, the operator deployed in-cluster from
#                      config/default with images built here, the sample verified on every rollout,
#                      and the API answering from this host through its Service. Needs root; installs
#                      the Debian packages it lacks (hack/lib/host-packages.sh).
#   UP_NODE=simulated  simulated nodes (kwok): no container runs, nothing answers HTTP; the operator
#                      runs as a local process. Needs neither root nor Docker.
#   UP_NODE=auto       (the default) real when this host can (root, and every package installed),
#                      otherwise simulated, with one line saying why and how to get real pods.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=hack/lib/host-packages.sh
. hack/lib/host-packages.sh
# shellcheck source=hack/lib/deploy-operator.sh
. hack/lib/deploy-operator.sh
export KUBECONFIG=$root/.cluster/kubeconfig
pidfile=$root/.cluster/pids/operator.pid
img_api=${IMG_API:-helloworld-api:dev}
img_operator=${IMG_OPERATOR:-helloworld-operator:dev}

log() { echo "up: $*" >&2; }
die() {
  log "$*"
  exit 1
}

stop_operator() {
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill -TERM "$(cat "$pidfile")"
    for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# wait_available NAME SECONDS: until the HelloWorld's phase is Available (verification passed, when on).
wait_available() {
  if ! kubectl wait --for=jsonpath='{.status.phase}'=Available --timeout="$2s" "hw/$1" >/dev/null; then
    log "hw/$1 did not become Available in $2 s; its status:"
    kubectl get "hw/$1" -o yaml >&2
    return 1
  fi
}

up_simulated() {
  local sample=config/samples/helloworld-simulated.yaml
  hack/cluster.sh up
  kubectl apply --server-side -f crds/ >/dev/null
  kubectl wait --for condition=Established --timeout=60s crd/helloworlds.hello.dev >/dev/null
  stop_operator
  mkdir -p .cluster/logs .cluster/pids
  # The operator runs outside the cluster here, so it needs no image; leader election still applies.
  LEASE_NAMESPACE=default nohup node dist/operator/main.js >>.cluster/logs/operator.log 2>&1 &
  echo $! >"$pidfile"
  log "operator running (pid $(cat "$pidfile")), logs in .cluster/logs/operator.log"
  kubectl apply -f "$sample"
  if ! wait_available hello 120; then
    tail -n 30 .cluster/logs/operator.log >&2
    exit 1
  fi
  kubectl get hw,deploy,svc,hpa,pdb,sts
  echo
  echo "Simulated nodes: pods are scheduled and become ready, but no container runs, so nothing answers"
  echo "HTTP. Rollouts and rollbacks work as on a real cluster; try a crash-looping image:"
  echo "  kubectl patch hw/hello --type=merge -p '{\"spec\":{\"image\":\"crashloop.invalid/api:2\"}}'"
  echo "  kubectl get hw hello -w"
  echo "or the tour: make demo"
}

up_real() {
  local sample=config/samples/helloworld-real-node.yaml ip
  stop_operator # a local operator from a simulated `make up`
  IMG_API=$img_api IMG_OPERATOR=$img_operator CLUSTER_NODE=real hack/cluster.sh up
  log "deploying the operator in-cluster (config/default, image $img_operator)"
  deploy_operator "$img_operator"
  kubectl apply -f "$sample"
  if ! wait_available hello 300; then
    kubectl logs -n helloworld-system deployment/helloworld-operator --tail=30 >&2 || true
    exit 1
  fi
  kubectl get hw,deploy,svc,hpa,pdb,sts,pods
  # This host is the node: kube-proxy's rules route the Service's address from here.
  ip=$(kubectl get svc hello -o jsonpath='{.spec.clusterIP}')
  echo
  echo "The API answers from this host, through the Service hello ($ip):"
  echo "\$ curl -X PUT -H 'content-type: application/json' -d '{\"dateOfBirth\":\"1990-02-14\"}' http://$ip/hello/alice"
  curl -sS -m 10 -X PUT -H 'content-type: application/json' -d '{"dateOfBirth":"1990-02-14"}' \
    -w 'HTTP %{http_code}\n' "http://$ip/hello/alice"
  echo "\$ curl http://$ip/hello/alice"
  curl -sS -m 10 "http://$ip/hello/alice"
  echo
  echo
  echo "Next: make demo (a good release under load, then a bad one caught and rolled back)."
}

if [ "${1:-up}" = down ]; then
  stop_operator
  hack/cluster.sh down
  exit 0
fi

# A kubectl supported against the cluster's release (a plain assignment, so that set -e stops here
# when there is none and it cannot be built).
PATH="$("$root/hack/ensure-kubectl.sh"):$PATH"
started=$SECONDS
node=$(choose_node "${UP_NODE:-auto}")
log "local cluster with $node nodes"
"up_$node"
echo "export KUBECONFIG=$KUBECONFIG   # to use kubectl against the local cluster"
log "done in $((SECONDS - started)) s"
