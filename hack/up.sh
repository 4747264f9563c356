#!/usr/bin/env bash
# `make up`: the local cluster, the CRD, the operator as a local process, and a sample HelloWorld.
# `make down` (hack/up.sh down) stops the operator and the cluster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export KUBECONFIG=$root/.cluster/kubeconfig
pidfile=$root/.cluster/pids/operator.pid
sample=${SAMPLE:-config/samples/helloworld-simulated.yaml}

stop_operator() {
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill -TERM "$(cat "$pidfile")"
    for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

if [ "${1:-up}" = down ]; then
  stop_operator
  hack/cluster.sh down
  exit 0
fi

hack/cluster.sh up
kubectl apply --server-side -f crds/ >/dev/null
kubectl wait --for condition=Established --timeout=60s crd/helloworlds.hello.dev >/dev/null

stop_operator
mkdir -p .cluster/logs .cluster/pids
# The operator runs outside the cluster here, so it needs no image; leader election still applies.
LEASE_NAMESPACE=default nohup node dist/operator/main.js >>.cluster/logs/operator.log 2>&1 &
echo $! >"$pidfile"
echo "up: operator running (pid $(cat "$pidfile")), logs in .cluster/logs/operator.log" >&2

kubectl apply -f "$sample"
name=$(kubectl create --dry-run=client -o jsonpath='{.metadata.name}' -f "$sample")
if ! kubectl wait --for=condition=Available --timeout=120s "hw/$name"; then
  echo "up: hw/$name did not become Available; its status and the operator's last lines:" >&2
  kubectl get "hw/$name" -o yaml >&2
  tail -n 30 .cluster/logs/operator.log >&2
  exit 1
fi
kubectl get hw,deploy,svc,hpa,pdb,sts
echo
echo "export KUBECONFIG=$KUBECONFIG   # to use kubectl against the local cluster"
