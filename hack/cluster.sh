#!/usr/bin/env bash
# Local Kubernetes cluster for tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# and kwok (three simulated nodes), run as plain processes on 127.0.0.1. No container runs: pods
# are simulated by kwok (hack/cluster/kwok-stages.yaml). See docs/local-cluster.md.
#
# CLUSTER_NODE=real replaces the simulated nodes by one real node on this host (containerd, kubelet,
# kube-proxy, CoreDNS; hack/lib/real-node.sh), with the images of hack/images.sh loaded. It needs root.
#
#   hack/cluster.sh up       build or reuse the binaries, start the cluster, wait until usable
#   hack/cluster.sh down     stop every component and remove .cluster/
#   hack/cluster.sh status   show each component; exit 1 unless the cluster is healthy
#   hack/cluster.sh env      print `export KUBECONFIG=...` for eval
#
# State lives in .cluster/ (git-ignored): kubeconfig (admin), pki/, etcd/, logs/, pids/, ports.env.
# Ports (127.0.0.1 only) can be changed with CLUSTER_ETCD_PORT, CLUSTER_ETCD_PEER_PORT,
# CLUSTER_APISERVER_PORT, CLUSTER_KCM_PORT, CLUSTER_SCHEDULER_PORT and CLUSTER_KWOK_PORT.
# CLUSTER_UP_TIMEOUT (seconds, default 120) bounds the wait for the cluster to become usable.
# CLUSTER_STATE_DIR (default .cluster) moves the state, e.g. to run a second cluster on other ports.
# A real node also uses CLUSTER_KUBELET_PORT, CLUSTER_KUBELET_HEALTHZ_PORT, CLUSTER_KUBE_PROXY_METRICS_PORT,
# CLUSTER_KUBE_PROXY_HEALTHZ_PORT, CLUSTER_COREDNS_HEALTH_PORT and CLUSTER_COREDNS_READY_PORT.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${CLUSTER_STATE_DIR:-$root/.cluster}
pki=$state/pki
logs=$state/logs
pids=$state/pids
kubeconfig=$state/kubeconfig
components=()
# shellcheck source=hack/lib/real-node.sh
. "$root/hack/lib/real-node.sh"

log() { echo "cluster: $*" >&2; }
die() {
  log "$*"
  exit 1
}

load_ports() {
  if [ -f "$state/ports.env" ]; then
    # shellcheck disable=SC1091
    . "$state/ports.env"
  fi
  etcd_port=${etcd_port:-${CLUSTER_ETCD_PORT:-22379}}
  etcd_peer_port=${etcd_peer_port:-${CLUSTER_ETCD_PEER_PORT:-22380}}
  apiserver_port=${apiserver_port:-${CLUSTER_APISERVER_PORT:-26443}}
  kcm_port=${kcm_port:-${CLUSTER_KCM_PORT:-30257}}
  scheduler_port=${scheduler_port:-${CLUSTER_SCHEDULER_PORT:-30259}}
  kwok_port=${kwok_port:-${CLUSTER_KWOK_PORT:-30247}}
  kubelet_port=${kubelet_port:-${CLUSTER_KUBELET_PORT:-30250}}
  kubelet_healthz_port=${kubelet_healthz_port:-${CLUSTER_KUBELET_HEALTHZ_PORT:-30248}}
  kube_proxy_metrics_port=${kube_proxy_metrics_port:-${CLUSTER_KUBE_PROXY_METRICS_PORT:-30249}}
  kube_proxy_healthz_port=${kube_proxy_healthz_port:-${CLUSTER_KUBE_PROXY_HEALTHZ_PORT:-30256}}
  coredns_health_port=${coredns_health_port:-${CLUSTER_COREDNS_HEALTH_PORT:-30253}}
  coredns_ready_port=${coredns_ready_port:-${CLUSTER_COREDNS_READY_PORT:-30281}}
  node_mode=${node_mode:-${CLUSTER_NODE:-simulated}}
  case $node_mode in
    simulated) components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok) ;;
    real) components=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy coredns) ;;
    *) die "CLUSTER_NODE must be simulated or real, not '$node_mode'" ;;
  esac
}

# pid_of COMPONENT: prints the PID of a running component that this script started.
pid_of() {
  local f=$pids/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  # Guard against a recycled PID: the process must still run our binary.
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "/$1 " || return 1
  echo "$pid"
}

# exited COMPONENT: true when a component this run started has stopped running. Unlike pid_of, it does
# not look at the command line: a process just forked runs this script's until its exec, and under
# load a check can land in that window.
exited() {
  local pid
  pid=$(cat "$pids/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] || return 1
  [ -r "/proc/$pid/status" ] || return 0
  grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" # a zombie has exited
}

# probe URL [CURL_ARGS...]: succeeds when URL answers 200 within 2 seconds.
probe() {
  local url=$1
  shift
  curl -fsS -o /dev/null --max-time 2 "$@" "$url" 2>/dev/null
}

api() {
  curl -fsS --max-time 10 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$@"
}

healthy() {
  local c
  [ -f "$kubeconfig" ] && [ -f "$state/ready" ] || return 1
  for c in "${components[@]}"; do pid_of "$c" >/dev/null || return 1; done
  probe "https://127.0.0.1:$apiserver_port/readyz" --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
    --key "$pki/admin.key"
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# --- certificates -------------------------------------------------------------------------------

# cert NAME CA SUBJECT EXTENSIONS: an EC P-256 key and a certificate signed by CA, valid one year.
cert() {
  local name=$1 ca=$2 subj=$3 ext=$4
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$name.key" 2>/dev/null
  openssl req -new -key "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

ca() {
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$1.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/$1.key" -subj "/CN=$2" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$pki/$1.crt" 2>/dev/null
}

generate_pki() {
  mkdir -p "$pki"
  chmod 700 "$pki"
  local client="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  ca ca helloworld-local-ca
  ca front-proxy-ca helloworld-local-front-proxy-ca
  cert apiserver ca /CN=kube-apiserver "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1,IP:$node_ip"
  cert admin ca "/O=system:masters/CN=kubernetes-admin" "$client"
  cert kube-controller-manager ca /CN=system:kube-controller-manager "$client"
  cert kube-scheduler ca /CN=system:kube-scheduler "$client"
  # kwok plays the kubelet of every simulated node: it writes node and pod status, node leases and
  # deletes pods. The Node authorizer is off (RBAC only), so it runs as a cluster admin.
  cert kwok ca "/O=system:masters/CN=kwok-controller" "$client"
  cert front-proxy-client front-proxy-ca /CN=front-proxy-client "$client"
  # Service-account tokens are signed with this key pair (ES256).
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/sa.key" 2>/dev/null
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  if [ "$node_mode" = real ]; then node_pki; fi
  rm -f "$pki"/*.srl
}

# write_kubeconfig FILE USER: a kubeconfig with the certificates embedded.
write_kubeconfig() {
  local file=$1 user=$2
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: helloworld-local
  cluster:
    server: https://127.0.0.1:$apiserver_port
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$pki/$user.crt")
    client-key-data: $(base64 -w0 <"$pki/$user.key")
contexts:
- name: helloworld-local
  context:
    cluster: helloworld-local
    user: $user
current-context: helloworld-local
EOF
  chmod 600 "$file"
}

# --- processes ----------------------------------------------------------------------------------

# start COMPONENT BINARY ARGS...: starts a component in its own session, detached from this shell,
# logging to .cluster/logs/COMPONENT.log.
start() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$logs/$name.log" 2>&1 &
  echo $! >"$pids/$name.pid"
}

# wait_until DESCRIPTION COMMAND...: retries COMMAND every 0.2 s until it succeeds or the deadline.
wait_until() {
  local what=$1
  shift
  while ! "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "timed out waiting for $what; logs are in $logs/"
      local f
      for f in "$logs"/*.log; do
        [ -s "$f" ] || continue
        echo "----- last lines of $f" >&2
        tail -n 15 "$f" >&2
      done
      stop_all
      log "stopped the cluster; its state and logs stay in $state until the next up or down"
      exit 1
    fi
    local c
    for c in "${components[@]}"; do
      if exited "$c"; then
        log "$c exited while waiting for $what; last lines of $logs/$c.log:"
        tail -n 30 "$logs/$c.log" >&2 || true
        stop_all
        log "stopped the cluster; its state and logs stay in $state until the next up or down"
        exit 1
      fi
    done
    sleep 0.2
  done
}

nodes_ready() {
  local body
  # The API server pretty-prints JSON for curl; strip the whitespace.
  body=$(api "https://127.0.0.1:$apiserver_port/api/v1/nodes?labelSelector=type%3Dkwok" | tr -d ' \n\t') ||
    return 1
  # Three nodes whose Ready condition is True.
  [ "$(grep -o '"type":"Ready","status":"True"' <<<"$body" | wc -l)" -ge 3 ]
}

default_sa_exists() {
  api -o /dev/null "https://127.0.0.1:$apiserver_port/api/v1/namespaces/default/serviceaccounts/default" 2>/dev/null
}

# create_objects FILE API_PATH: creates each document of the multi-document YAML FILE by a POST to
# API_PATH (YAML request bodies; documents without a kind are skipped).
create_objects() {
  local file=$1 path=$2 doc=() line
  post() {
    [ "${#doc[@]}" -gt 0 ] || return 0
    printf '%s\n' "${doc[@]}" | grep -q '^kind: ' || return 0
    printf '%s\n' "${doc[@]}" | api -o /dev/null -X POST -H 'Content-Type: application/yaml' \
      --data-binary @- "https://127.0.0.1:$apiserver_port$path"
  }
  while IFS= read -r line || [ -n "$line" ]; do
    if [ "$line" = "---" ]; then
      post
      doc=()
    else
      doc+=("$line")
    fi
  done <"$file"
  post
}

# The cluster's definition: a cluster started from another one is restarted by `up`.
config_hash() {
  local hash
  hash=$(cat "$root/hack/cluster.sh" "$root"/hack/cluster/* "$root"/hack/tools/*/go.mod "$root/hack/lib/real-node.sh" |
    sha256sum | cut -c1-16)
  echo "$hash-$node_mode"
}

up() {
  load_ports
  if healthy; then
    if [ "$(cat "$state/config-hash" 2>/dev/null)" = "$(config_hash)" ]; then
      log "already up (kubeconfig: $kubeconfig)"
      return 0
    fi
    log "the cluster's definition (hack/cluster.sh, hack/cluster/, hack/tools/) changed; restarting it"
  fi
  if [ -d "$state" ]; then
    log "found a stale or partial cluster in $state; removing it"
    down
    unset etcd_port etcd_peer_port apiserver_port kcm_port scheduler_port kwok_port kubelet_port \
      kubelet_healthz_port kube_proxy_metrics_port kube_proxy_healthz_port coredns_health_port coredns_ready_port \
      node_mode
    load_ports
  fi
  local p ports=("$etcd_port" "$etcd_peer_port" "$apiserver_port" "$kcm_port" "$scheduler_port" "$kwok_port")
  if [ "$node_mode" = real ]; then
    ports+=("$kubelet_port" "$kubelet_healthz_port" "$kube_proxy_metrics_port" "$kube_proxy_healthz_port"
      "$coredns_health_port" "$coredns_ready_port")
  fi
  for p in "${ports[@]}"; do
    port_free "$p" || die "port 127.0.0.1:$p is in use; set the CLUSTER_*_PORT variables (see $0)"
  done
  command -v openssl >/dev/null || die "openssl is required (Debian package openssl)"
  command -v curl >/dev/null || die "curl is required (Debian package curl)"
  if [ "$node_mode" = real ]; then node_preflight; fi

  local bindirs
  if [ "$node_mode" = real ]; then
    bindirs=$("$root/hack/build-tools.sh" --node)
    # The node's metrics-server is applied with kubectl (hack/lib/real-node.sh).
    bindirs+=:$("$root/hack/ensure-kubectl.sh")
  else
    bindirs=$("$root/hack/build-tools.sh")
  fi
  export PATH="$bindirs:$PATH"
  local started=$SECONDS
  deadline=$((SECONDS + ${CLUSTER_UP_TIMEOUT:-120}))

  mkdir -p "$state" "$logs" "$pids" "$state/etcd"
  cat >"$state/ports.env" <<EOF
etcd_port=$etcd_port
etcd_peer_port=$etcd_peer_port
apiserver_port=$apiserver_port
kcm_port=$kcm_port
scheduler_port=$scheduler_port
kwok_port=$kwok_port
kubelet_port=$kubelet_port
kubelet_healthz_port=$kubelet_healthz_port
kube_proxy_metrics_port=$kube_proxy_metrics_port
kube_proxy_healthz_port=$kube_proxy_healthz_port
coredns_health_port=$coredns_health_port
coredns_ready_port=$coredns_ready_port
node_mode=$node_mode
EOF
  # `down` needs the node's tools (crictl, kube-proxy --cleanup) without building anything.
  echo "$bindirs" >"$state/bin-path"
  # etcd needs no certificate (it only listens on 127.0.0.1): it boots while they are generated.
  local etcd_url=http://127.0.0.1:$etcd_port
  start etcd "$(command -v etcd)" --name=local --data-dir="$state/etcd" \
    --listen-client-urls="$etcd_url" --advertise-client-urls="$etcd_url" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster="local=http://127.0.0.1:$etcd_peer_port" \
    --unsafe-no-fsync=true --quota-backend-bytes=4294967296 --log-level=warn
  generate_pki
  local c
  for c in kube-controller-manager kube-scheduler kwok; do write_kubeconfig "$state/$c.kubeconfig" "$c"; done
  local -a apiserver_node_flags=(--advertise-address=127.0.0.1 --bind-address=127.0.0.1
    --endpoint-reconciler-type=none --authorization-mode=RBAC)
  if [ "$node_mode" = real ]; then
    node_network_up
    node_configs
    mapfile -t apiserver_node_flags < <(node_apiserver_flags)
  fi
  wait_until "etcd" probe "$etcd_url/health"

  start kube-apiserver "$(command -v kube-apiserver)" \
    "${apiserver_node_flags[@]}" --secure-port="$apiserver_port" \
    --etcd-servers="$etcd_url" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --allow-privileged=true \
    --kubelet-preferred-address-types=InternalIP \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" \
    --proxy-client-key-file="$pki/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --profiling=false --v=1
  wait_until "kube-apiserver" probe "https://127.0.0.1:$apiserver_port/readyz" \
    --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key"
  write_kubeconfig "$kubeconfig" admin

  local kcm=$state/kube-controller-manager.kubeconfig sched=$state/kube-scheduler.kubeconfig
  start kube-controller-manager "$(command -v kube-controller-manager)" \
    --kubeconfig="$kcm" --authentication-kubeconfig="$kcm" --authorization-kubeconfig="$kcm" \
    --bind-address=127.0.0.1 --secure-port="$kcm_port" --leader-elect=false \
    --controllers='*' --use-service-account-credentials=true \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --kube-api-qps=100 --kube-api-burst=200 --profiling=false --v=1
  start kube-scheduler "$(command -v kube-scheduler)" \
    --kubeconfig="$sched" --authentication-kubeconfig="$sched" --authorization-kubeconfig="$sched" \
    --bind-address=127.0.0.1 --secure-port="$scheduler_port" --leader-elect=false \
    --kube-api-qps=100 --kube-api-burst=200 --profiling=false --v=1
  if [ "$node_mode" = simulated ]; then
    start kwok "$(command -v kwok)" \
      --kubeconfig="$state/kwok.kubeconfig" --config="$root/hack/cluster/kwok-stages.yaml" \
      --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
      --cidr=10.244.0.0/16 --node-ip=127.0.0.1 --node-lease-duration-seconds=40 \
      --server-address="127.0.0.1:$kwok_port"
    create_objects "$root/hack/cluster/nodes.yaml" /api/v1/nodes
    create_objects "$root/hack/cluster/storage-class.yaml" /apis/storage.k8s.io/v1/storageclasses
  fi
  wait_until "kube-controller-manager" probe "https://127.0.0.1:$kcm_port/healthz" -k
  wait_until "kube-scheduler" probe "https://127.0.0.1:$scheduler_port/healthz" -k
  if [ "$node_mode" = real ]; then
    node_up
  else
    wait_until "three Ready kwok nodes" nodes_ready
  fi
  wait_until "the default service account" default_sa_exists
  config_hash >"$state/config-hash"
  touch "$state/ready"
  log "up in $((SECONDS - started))s; kubeconfig: $kubeconfig; logs: $logs/"
}

down() {
  stop_all
  rm -rf "$state"
}

# stop_all: a real node is torn down first (it owns host resources), then every process stops.
stop_all() {
  if [ "$node_mode" = real ]; then
    local bindirs
    bindirs=$(cat "$state/bin-path" 2>/dev/null || true)
    PATH="${bindirs:+$bindirs:}$PATH" node_down
  fi
  stop_processes
}

stop_processes() {
  local c pid remaining
  local -a stopping=()
  # Stop in reverse start order.
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do
    c=${components[i]}
    if pid=$(pid_of "$c"); then
      kill -TERM "$pid" 2>/dev/null || true
      stopping+=("$pid")
    fi
  done
  for _ in $(seq 1 50); do
    remaining=0
    for pid in ${stopping[@]+"${stopping[@]}"}; do
      # A process that has exited but is not yet reaped (a zombie, state Z) counts as stopped.
      if [ -r "/proc/$pid/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$pid/stat" 2>/dev/null; then
        remaining=1
      fi
    done
    [ "$remaining" = 0 ] && break
    sleep 0.2
  done
  for pid in ${stopping[@]+"${stopping[@]}"}; do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

status() {
  load_ports
  local c pid ok=0
  if [ ! -d "$state" ]; then
    echo "cluster: down"
    return 1
  fi
  for c in "${components[@]}"; do
    if pid=$(pid_of "$c"); then
      printf '%-24s running (pid %s)\n' "$c" "$pid"
    else
      printf '%-24s not running\n' "$c"
      ok=1
    fi
  done
  if healthy; then
    echo "kube-apiserver           https://127.0.0.1:$apiserver_port ready"
    echo "kubeconfig               $kubeconfig"
  else
    echo "kube-apiserver           https://127.0.0.1:$apiserver_port not ready"
    ok=1
  fi
  return "$ok"
}

main() {
  case ${1:-} in
    up) up ;;
    down)
      load_ports
      down
      log "down"
      ;;
    status) status ;;
    env) echo "export KUBECONFIG=$kubeconfig" ;;
    *)
      echo "usage: $0 up|down|status|env" >&2
      exit 2
      ;;
  esac
}

# One line, so that bash has read all of it before running: editing this file while it runs is safe.
main "$@"; exit $?
