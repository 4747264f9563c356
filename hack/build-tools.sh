#!/usr/bin/env bash
# Builds the binaries of the local test cluster from Go modules and caches them outside the repo,
# keyed by version, so a warm machine never rebuilds:
#
#   kubernetes  kube-apiserver, kube-controller-manager, kube-scheduler  (hack/tools/kubernetes)
#   etcd        etcd                                                     (hack/tools/etcd)
#   kwok        kwok                                                     (hack/tools/kwok)
#
# With --kubectl, only kubectl of the same Kubernetes release (for hack/ensure-kubectl.sh):
#
#   kubectl     kubectl                                                  (hack/tools/kubernetes)
#
# With --node, also the real node's (hack/lib/real-node.sh):
#
#   kubernetes-node  kubelet, kube-proxy (same release)                   (hack/tools/kubernetes)
#   containerd       containerd, containerd-shim-runc-v2, ctr             (hack/tools/containerd)
#   coredns          coredns, with the plugins its main.go lists          (hack/tools/coredns)
#   crictl           crictl                                               (hack/tools/crictl)
#   metrics-server   metrics-server (run as a pod; its image: hack/images.sh)  (hack/tools/metrics-server)
#
# The pinned versions are the ones required by the wrapper modules' go.mod files.
# Cache: ${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin/<tool>-<version>/
#
# Prints the binary directories, colon-separated, so that `PATH=$(hack/build-tools.sh):$PATH` works.
# Progress goes to stderr. BUILD_PARALLELISM (default: number of cores) is passed to `go build -p`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=$root/hack/tools
cache=${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin
parallel=${BUILD_PARALLELISM:-$(nproc 2>/dev/null || echo 2)}

log() { echo "build-tools: $*" >&2; }

# One build at a time per cache (CI prebuilds the node's tools in the background while tests run):
# a second caller waits, then finds the binaries cached.
mkdir -p "$cache"
exec 9>"$cache/.build.lock"
if ! flock -n 9; then
  log "another build holds $cache/.build.lock; waiting for it"
  flock 9
fi

if ! command -v go >/dev/null 2>&1; then
  log "go is not on PATH; the cluster binaries are built from Go modules (Go 1.26 or newer)"
  exit 1
fi

# required_version MODULE_DIR MODULE_PATH: the version that the wrapper's go.mod requires.
required_version() {
  (cd "$1" && go list -m -f '{{.Version}}' "$2")
}

# module_time MODULE_DIR MODULE_PATH VERSION: the publication time that the module proxy reports;
# used as the reproducible build date.
module_time() {
  (cd "$1" && go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' "$2@$3" 2>/dev/null) ||
    true
}

# build TOOL VERSION BINARIES... -- GO_BUILD_ARGS...: builds into a temporary directory next to the
# cache entry, then renames it into place, so an interrupted build never looks finished. A binary
# given as NAME=BUILT is renamed from the name that `go build` gives it. The wrapper module is
# hack/tools/TOOL, or $module_dir.
build() {
  local tool=$1 version=$2
  shift 2
  local -a bins=() renames=()
  while [ "$1" != "--" ]; do
    bins+=("${1%%=*}")
    case $1 in *=*) renames+=("$1") ;; esac
    shift
  done
  shift
  local dest=$cache/$tool-$version
  local ok=1 b
  for b in "${bins[@]}"; do [ -x "$dest/$b" ] || ok=0; done
  if [ "$ok" = 1 ]; then
    echo "$dest"
    return 0
  fi
  mkdir -p "$cache"
  local tmp
  tmp=$(mktemp -d "$cache/.$tool-$version.XXXXXX")
  chmod 755 "$tmp"
  log "building $tool $version (${bins[*]}) into $dest; a cold build takes several minutes"
  local start=$SECONDS
  if ! (cd "${module_dir:-$tools/$tool}" && CGO_ENABLED=0 go build -p "$parallel" -trimpath -o "$tmp/" "$@" >&2); then
    rm -rf "$tmp"
    log "building $tool $version failed"
    return 1
  fi
  for b in ${renames[@]+"${renames[@]}"}; do
    [ ! -e "$tmp/${b#*=}" ] || mv "$tmp/${b#*=}" "$tmp/${b%%=*}"
  done
  for b in "${bins[@]}"; do
    if [ ! -x "$tmp/$b" ]; then
      rm -rf "$tmp"
      log "building $tool $version did not produce $b"
      return 1
    fi
  done
  rm -rf "$dest"
  mv "$tmp" "$dest"
  log "built $tool $version in $((SECONDS - start))s"
  echo "$dest"
}

# Kubernetes: version ldflags like upstream's kube::version::ldflags (hack/lib/version.sh), so that
# /version and `kubectl version` report the real release rather than v0.0.0-master.
k8s_version=$(required_version "$tools/kubernetes" k8s.io/kubernetes)
k8s_minor=${k8s_version#v*.}
k8s_minor=${k8s_minor%%.*}
k8s_major=${k8s_version#v}
k8s_major=${k8s_major%%.*}
k8s_date=$(module_time "$tools/kubernetes" k8s.io/kubernetes "$k8s_version")
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$k8s_major -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit= -X $pkg.buildDate=${k8s_date:-1970-01-01T00:00:00Z}"
done
k8s_flags=(-tags selinux,notest,grpcnotrace -ldflags "all=$k8s_ldflags")

# --kubectl: kubectl of the same release only, in its own cache entry (hack/ensure-kubectl.sh asks
# for it when the machine's kubectl is missing or outside the supported version skew).
if [ "${1:-}" = --kubectl ]; then
  module_dir=$tools/kubernetes build kubectl "$k8s_version" kubectl -- "${k8s_flags[@]}" \
    k8s.io/kubernetes/cmd/kubectl
  exit 0
fi

k8s_dir=$(build kubernetes "$k8s_version" kube-apiserver kube-controller-manager kube-scheduler -- \
  "${k8s_flags[@]}" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler)

# etcd: the server module is `package main`, so `go build` names the binary "server".
etcd_version=$(required_version "$tools/etcd" go.etcd.io/etcd/server/v3)
etcd_dir=$(build etcd "$etcd_version" etcd=server -- \
  -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_version" \
  go.etcd.io/etcd/server/v3)

kwok_version=$(required_version "$tools/kwok" sigs.k8s.io/kwok)
kwok_dir=$(build kwok "$kwok_version" kwok -- \
  -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v}" \
  sigs.k8s.io/kwok/cmd/kwok)

dirs="$k8s_dir:$etcd_dir:$kwok_dir"
if [ "${1:-}" = --node ]; then
  node_dir=$(module_dir=$tools/kubernetes build kubernetes-node "$k8s_version" kubelet kube-proxy -- \
    "${k8s_flags[@]}" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
  containerd_version=$(required_version "$tools/containerd" github.com/containerd/containerd/v2)
  containerd_dir=$(build containerd "$containerd_version" containerd containerd-shim-runc-v2 ctr -- \
    -tags "no_btrfs no_devmapper no_zfs" \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$containerd_version" \
    github.com/containerd/containerd/v2/cmd/containerd \
    github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
    github.com/containerd/containerd/v2/cmd/ctr)
  # Our main package, so `go build` names the binary after the wrapper module's directory.
  coredns_version=$(required_version "$tools/coredns" github.com/coredns/coredns)
  coredns_dir=$(build coredns "$coredns_version-$(sha256sum "$tools/coredns/main.go" | cut -c1-8)" coredns -- \
    -ldflags "-s -w" .)
  crictl_version=$(required_version "$tools/crictl" sigs.k8s.io/cri-tools)
  crictl_dir=$(build crictl "$crictl_version" crictl -- \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$crictl_version" \
    sigs.k8s.io/cri-tools/cmd/crictl)
  metrics_version=$(required_version "$tools/metrics-server" sigs.k8s.io/metrics-server)
  metrics_dir=$(build metrics-server "$metrics_version" metrics-server -- \
    -ldflags "-s -w -X sigs.k8s.io/metrics-server/pkg/version.gitVersion=$metrics_version" \
    sigs.k8s.io/metrics-server/cmd/metrics-server)
  dirs="$node_dir:$containerd_dir:$coredns_dir:$crictl_dir:$metrics_dir:$dirs"
fi
echo "$dirs"
