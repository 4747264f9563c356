# shellcheck shell=bash
# The real node of the local cluster (`CLUSTER_NODE=real hack/cluster.sh up`, `make cluster-up NODE=real`):
# containerd 2 with Debian's runc, a CNI bridge, kubelet, kube-proxy (iptables) and CoreDNS, run as
# processes on this host, so that pods really run. Sourced by hack/cluster.sh, which provides root,
# state, pki, logs, pids, log, die, start, wait_until, probe, api, cert, create_objects and
# write_kubeconfig. See docs/local-cluster.md ("A real node").
#
# What the node owns on the host, and `down` removes: the bridge hwo0 (10.244.0.1/24; pods get
# 10.244.0.2-254), iptables rules commented "helloworld-node" and the chains of kube-proxy (KUBE-*)
# and of the CNI bridge plugin for network "helloworld", network namespaces holding a 10.244.0.x
# address, the cgroup subtree /helloworld-node, and every mount under the state directory.

node_name=helloworld-node
node_bridge=hwo0
node_ip=10.244.0.1
node_pod_cidr=10.244.0.0/24
node_cgroup_root=/helloworld-node
node_cni_network=helloworld
node_comment=helloworld-node
# The sandbox ("pause") image, built and loaded by hack/images.sh; containerd names it in full.
node_pause_image=docker.io/helloworld-local/pause:3.10
# Local PersistentVolumes made ready for claims to bind (see node_volumes).
node_volume_count=${CLUSTER_NODE_VOLUMES:-40}

node_paths() {
  node_state=$state/node
  node_sock=$node_state/containerd/containerd.sock
}

# node_preflight: what the host must offer; fails with what to install or why it cannot work here.
node_preflight() {
  [ "$(id -u)" = 0 ] || die "a real node needs root (containers, mounts, iptables, network namespaces)"
  command -v runc >/dev/null || die "runc is required (Debian package runc)"
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] ||
    die "the CNI plugins are required (Debian package containernetworking-plugins)"
  command -v iptables >/dev/null || die "iptables is required (Debian package iptables)"
  command -v conntrack >/dev/null || die "conntrack is required by kube-proxy (Debian package conntrack)"
  command -v docker >/dev/null || die "docker is required to build the node's images (Debian package docker.io)"
  [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || die "no cgroup hierarchy is mounted"
  node_reclaim_stale
}

# Which state directory the node on this host belongs to: written when its bridge is made, so that a
# later `up` can tell a node that still runs from one whose processes were killed without `down`.
node_owner_file=${CLUSTER_NODE_OWNER_FILE:-/run/helloworld-node.owner}

# node_running: prints the node processes (containerd, kubelet, kube-proxy) of any real node on this host.
node_running() {
  pgrep -af -- '/node/(containerd/config\.toml|kubelet/config\.yaml|kube-proxy\.yaml)'
}

# node_reclaim_stale: the bridge is there but no node process runs (a run killed before its `down`):
# tear down what that node left on the host, as its own `down` would have, then carry on. A node that
# still runs is never touched.
node_reclaim_stale() {
  ip link show "$node_bridge" >/dev/null 2>&1 || return 0
  local owner
  owner=$(cat "$node_owner_file" 2>/dev/null || true)
  if node_running >/dev/null; then
    die "another real node runs on this host (state: ${owner:-unknown}); stop it first: CLUSTER_STATE_DIR=${owner:-DIR} CLUSTER_NODE=real hack/cluster.sh down"
  fi
  log "a real node of ${owner:-an unknown state directory} was not torn down and none of its processes runs: removing what it left on this host"
  (
    # The stale node's own state (mounts, sockets, binaries), when its directory is still there.
    [ -n "$owner" ] && state=$owner
    PATH="$(cat "$state/bin-path" 2>/dev/null || true):$PATH"
    node_down
  )
}

# node_network_up: the bridge that pods attach to, up before the API server, which advertises its
# address: pods reach the API server through the kubernetes Service at that address.
node_network_up() {
  node_paths
  mkdir -p "$node_state"
  cat /proc/sys/net/ipv4/ip_forward >"$node_state/ip_forward.before"
  sysctl -qw net.ipv4.ip_forward=1
  if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
    sysctl -qw net.bridge.bridge-nf-call-iptables=1
  fi
  ip link add "$node_bridge" type bridge
  echo "$state" >"$node_owner_file"
  ip addr add "$node_ip/24" dev "$node_bridge"
  ip link set "$node_bridge" up
  # Docker sets the FORWARD policy to DROP; let pod traffic through, and only ours.
  iptables -I FORWARD -i "$node_bridge" -m comment --comment "$node_comment" -j ACCEPT
  iptables -I FORWARD -o "$node_bridge" -m comment --comment "$node_comment" -j ACCEPT
}

node_pki() {
  local client="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  # The Node authorizer lets a kubelet touch only its own node and the pods bound to it.
  cert kubelet ca "/O=system:nodes/CN=system:node:$node_name" "$client"
  cert kubelet-serving ca "/CN=$node_name" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$node_name,IP:$node_ip,IP:127.0.0.1"
  # Bound by default to the ClusterRole system:node-proxier.
  cert kube-proxy ca /CN=system:kube-proxy "$client"
  cert coredns ca /CN=system:coredns "$client"
  cert apiserver-kubelet-client ca /CN=kube-apiserver-kubelet-client "$client"
}

# The API server flags that differ with a real node.
node_apiserver_flags() {
  printf '%s\n' --advertise-address="$node_ip" --bind-address=0.0.0.0 \
    --endpoint-reconciler-type=lease \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key"
}

node_configs() {
  node_paths
  mkdir -p "$node_state"/{containerd,cni/net.d,cni/ipam,kubelet,volumes}
  write_kubeconfig "$node_state/kubelet.kubeconfig" kubelet
  write_kubeconfig "$node_state/kube-proxy.kubeconfig" kube-proxy
  write_kubeconfig "$node_state/coredns.kubeconfig" coredns

  cat >"$node_state/containerd/config.toml" <<EOF
version = 3
root = "$node_state/containerd/root"
state = "$node_state/containerd/state"

[grpc]
  address = "$node_sock"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$node_pause_image"

[plugins.'io.containerd.cri.v1.runtime']
  # Lowering a process's OOM score needs CAP_SYS_RESOURCE, which hosts like this one withhold even
  # from root; pods then keep the score of the host process at least (the kubelet asks for -998).
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$node_state/cni/net.d"
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      BinaryName = "$(command -v runc)"
      SystemdCgroup = false

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
EOF

  cat >"$node_state/cni/net.d/10-$node_cni_network.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$node_cni_network",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$node_bridge",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$node_pod_cidr", "gateway": "$node_ip" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$node_state/cni/ipam"
      }
    }
  ]
}
EOF

  # cgroup v1 only on this kind of host: kubelet 1.35+ refuses it unless failCgroupV1 is false.
  cat >"$node_state/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $node_cgroup_root
containerRuntimeEndpoint: unix://$node_sock
address: $node_ip
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz_port
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $pki/ca.crt }
# Whoever authenticates (a certificate of the cluster CA, or a token the API server accepts) may use
# the kubelet API, as metrics-server and the API server do. The kubelet listens on the node bridge only.
authorization: { mode: AlwaysAllow }
clusterDomain: cluster.local
clusterDNS: [$node_ip]
resolvConf: /etc/resolv.conf
failSwapOn: false
# Test machines run with little free disk: evict only when nearly full, never delete loaded images.
evictionHard: { memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2% }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
EOF

  cat >"$node_state/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $node_state/kube-proxy.kubeconfig }
mode: iptables
clusterCIDR: $node_pod_cidr
hostnameOverride: $node_name
bindAddress: 127.0.0.1
metricsBindAddress: 127.0.0.1:$kube_proxy_metrics_port
healthzBindAddress: 127.0.0.1:$kube_proxy_healthz_port
nodePortAddresses: [$node_ip/32]
# Leave the host's conntrack table size alone.
conntrack: { maxPerCore: 0 }
EOF

  cat >"$node_state/Corefile" <<EOF
.:53 {
    bind $node_ip
    errors
    health 127.0.0.1:$coredns_health_port
    ready 127.0.0.1:$coredns_ready_port
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $node_state/coredns.kubeconfig helloworld-local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
    loadbalance
}
EOF
}

node_ready() {
  local body
  body=$(api "https://127.0.0.1:$apiserver_port/api/v1/nodes/$node_name" 2>/dev/null | tr -d ' \n\t') || return 1
  grep -q '"type":"Ready","status":"True"' <<<"$body"
}

containerd_up() { ctr --address "$node_sock" version >/dev/null 2>&1; }

# node_volumes: local PersistentVolumes, one directory each under the state directory, for the
# default StorageClass "standard" (no dynamic provisioner: claims bind to the first free volume that
# is big enough, when their pod is scheduled). Unlike hostPath, local volumes honour fsGroup, so
# Redis, which runs as a non-root user, can write to its volume.
node_volumes() {
  local i name dir
  for i in $(seq -w 1 "$node_volume_count"); do
    name=local-pv-$i
    dir=$node_state/volumes/$name
    mkdir -p "$dir"
    api -o /dev/null -X POST -H 'Content-Type: application/yaml' \
      "https://127.0.0.1:$apiserver_port/api/v1/persistentvolumes" --data-binary @- <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $name
  labels: { app.kubernetes.io/managed-by: helloworld-local-cluster }
spec:
  capacity: { storage: 10Gi }
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: standard
  volumeMode: Filesystem
  local: { path: $dir }
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions:
            - { key: kubernetes.io/hostname, operator: In, values: [$node_name] }
EOF
  done
}

# node_up: after the control plane is up. Starts containerd, loads the images, then kubelet,
# kube-proxy and CoreDNS, and waits for the node to be Ready and DNS to answer.
node_up() {
  node_paths
  create_objects "$root/hack/cluster/real-node.yaml" /apis/rbac.authorization.k8s.io/v1/clusterroles
  create_objects "$root/hack/cluster/real-node-bindings.yaml" /apis/rbac.authorization.k8s.io/v1/clusterrolebindings
  create_objects "$root/hack/cluster/real-node-storage-class.yaml" /apis/storage.k8s.io/v1/storageclasses
  start containerd "$(command -v containerd)" --config "$node_state/containerd/config.toml" --log-level warn
  wait_until "containerd" containerd_up
  log "loading images into the node's containerd"
  CONTAINERD_ADDRESS=$node_sock "$root/hack/images.sh" load >&2 ||
    die "loading the images into containerd failed"
  # Building the images on a cold machine takes minutes: the wait for the node starts afresh.
  deadline=$((SECONDS + ${CLUSTER_UP_TIMEOUT:-120}))
  node_cgroup_setup
  start kubelet "$(command -v kubelet)" --config="$node_state/kubelet/config.yaml" \
    --kubeconfig="$node_state/kubelet.kubeconfig" --root-dir="$node_state/kubelet/root" \
    --cert-dir="$node_state/kubelet/pki" --hostname-override="$node_name" --node-ip="$node_ip" \
    --node-labels="topology.kubernetes.io/zone=zone-a,hello.dev/node=real" --v=1
  start kube-proxy "$(command -v kube-proxy)" --config="$node_state/kube-proxy.yaml" --v=1
  start coredns "$(command -v coredns)" -conf "$node_state/Corefile"
  node_volumes
  # metrics-server, for HPAs on CPU; the image is the one hack/images.sh loaded.
  sed "s|METRICS_SERVER_IMAGE|$("$root/hack/images.sh" list | grep /metrics-server:)|" "$root/hack/cluster/metrics-server.yaml" |
    kubectl --kubeconfig "$kubeconfig" apply --server-side -f - >/dev/null ||
    die "applying hack/cluster/metrics-server.yaml failed"
  wait_until "the node $node_name to be Ready" node_ready
  wait_until "CoreDNS" probe "http://127.0.0.1:$coredns_ready_port/ready"
  wait_until "kube-proxy" probe "http://127.0.0.1:$kube_proxy_healthz_port/healthz"
}

# node_stop COMPONENT: SIGTERM, then SIGKILL after 10 seconds.
node_stop() {
  local pid i
  pid=$(pid_of "$1") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    [ -r "/proc/$pid/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$pid/stat" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# node_down: tears the node down so that nothing it made stays on the host. Safe to run twice, and
# on a node that never came up.
node_down() {
  node_paths
  local pid c
  # kube-proxy first: it would put back the rules that are removed below.
  for c in kube-proxy coredns kubelet; do node_stop "$c"; done
  # Remove every pod sandbox through the CRI while containerd runs: the CNI plugin releases its
  # address, veth and masquerade rules.
  if [ -S "$node_sock" ] && command -v crictl >/dev/null && containerd_up; then
    timeout 90 crictl --runtime-endpoint "unix://$node_sock" rmp -fa >/dev/null 2>&1 || true
  fi
  node_stop containerd
  # Whatever survived: shims of this containerd, and processes left in the node's cgroups.
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $node_sock" 2>/dev/null || true
  local procs
  find /sys/fs/cgroup/*"$node_cgroup_root" -name cgroup.procs 2>/dev/null | while read -r procs; do
    while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$procs"
  done || true
  if command -v kube-proxy >/dev/null; then kube-proxy --cleanup >/dev/null 2>&1 || true; fi
  node_iptables_cleanup
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    if ip -n "$ns" -4 addr show 2>/dev/null | grep -q "inet ${node_ip%.1}\."; then ip netns delete "$ns" || true; fi
  done
  local mnt
  if [ -n "$state" ]; then
    findmnt -rn -o TARGET | grep -F "$state/" | sort -r | while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done ||
      true
  fi
  ip link delete "$node_bridge" 2>/dev/null || true
  if [ "$(cat "$node_owner_file" 2>/dev/null)" = "$state" ]; then rm -f "$node_owner_file"; fi
  node_cgroup_cleanup
  if [ -f "$node_state/ip_forward.before" ]; then
    sysctl -qw net.ipv4.ip_forward="$(cat "$node_state/ip_forward.before")" || true
  fi
}

# Removes this node's iptables rules (IPv4 and IPv6): ours (by comment), the bridge plugin's masquerade
# chains for network "helloworld" (left behind if a sandbox was not torn down), and the chains the
# kubelet makes (KUBE-FIREWALL, canaries, the iptables-mode hint).
node_iptables_cleanup() {
  local cmd table rule chain
  local owned='CNI-[0-9a-f]{24}|KUBE-FIREWALL|KUBE-KUBELET-CANARY|KUBE-PROXY-CANARY|KUBE-IPTABLES-HINT'
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in filter nat mangle; do
      "$cmd-save" -t "$table" 2>/dev/null |
        grep -E -- "^-A .*(--comment \"?$node_comment\"?|name: \\\\\"$node_cni_network\\\\\"|-j ($owned)( |\$))" |
        while read -r rule; do
          # The rule as iptables-save prints it, re-split into arguments on purpose.
          eval "$cmd -t $table ${rule/-A/-D}" 2>/dev/null || true
        done || true
      for chain in $("$cmd-save" -t "$table" 2>/dev/null | grep -oE "^:($owned) " | tr -d ': '); do
        # Only chains nothing jumps to any more.
        if ! "$cmd-save" -t "$table" | grep -qE -- "-j $chain( |\$)"; then
          "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
          "$cmd" -t "$table" -X "$chain" 2>/dev/null || true
        fi
      done
    done
  done
}

# The kubelet's cgroup root must exist in every cgroup v1 hierarchy; a new cpuset starts with no CPUs
# and no memory nodes, so it gets its parent's.
node_cgroup_setup() {
  local controller
  for controller in /sys/fs/cgroup/*; do
    [ -f "$controller/cgroup.procs" ] && [ "${controller##*/}" != unified ] || continue
    mkdir -p "$controller$node_cgroup_root"
  done
  if [ -f /sys/fs/cgroup/cpuset/cpuset.cpus ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset$node_cgroup_root/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset$node_cgroup_root/cpuset.mems"
  fi
}

node_cgroup_cleanup() {
  local controller dir
  for controller in /sys/fs/cgroup/*; do
    [ -d "$controller$node_cgroup_root" ] || continue
    # Deepest first: a cgroup can only be removed once it has no children.
    find "$controller$node_cgroup_root" -depth -type d 2>/dev/null | while read -r dir; do
      rmdir "$dir" 2>/dev/null || true
    done || true
  done
}
