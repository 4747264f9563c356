#!/usr/bin/env bash
# Prints the directory of a kubectl that is supported against the Kubernetes release of the local
# cluster (the k8s.io/kubernetes version that hack/tools/kubernetes/go.mod requires): kubectl is
# supported within one minor version, older or newer, of kube-apiserver. The kubectl on PATH is used
# when its client version is in that range; otherwise kubectl of the pinned release is built from its
# Go module (hack/build-tools.sh --kubectl; a cold build takes minutes), cached outside the repo,
# keyed by version, like the cluster's binaries:
# ${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin/kubectl-<version>/.
#
#   export PATH="$(hack/ensure-kubectl.sh):$PATH"
#
# Only the directory goes to stdout; messages go to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "ensure-kubectl: $*" >&2; }

# Read from go.mod directly, so that neither a cached kubectl nor the one on PATH needs go.
pinned=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }
  $1 == "require" && $2 == "k8s.io/kubernetes" { print $3; exit }' "$root/hack/tools/kubernetes/go.mod")
if ! [[ $pinned =~ ^v1\.([0-9]+)\. ]]; then
  log "cannot find the k8s.io/kubernetes requirement in hack/tools/kubernetes/go.mod"
  exit 1
fi
minor=$((10#${BASH_REMATCH[1]}))
lowest=$((minor - 1))
highest=$((minor + 1))

# The client's gitVersion (e.g. v1.36.3, v1.33.1-eks-abc): `--client -o json` has been stable since
# kubectl 1.11 and needs no cluster.
if path_kubectl=$(command -v kubectl); then
  found=$(kubectl version --client -o json 2>/dev/null |
    sed -n 's/^ *"gitVersion": *"\(v[0-9][^"]*\)".*/\1/p' | head -n 1) || true
  if [[ $found =~ ^v1\.([0-9]+)\. ]] && [ "$((10#${BASH_REMATCH[1]}))" -ge "$lowest" ] &&
    [ "$((10#${BASH_REMATCH[1]}))" -le "$highest" ]; then
    dirname "$path_kubectl"
    exit 0
  fi
  why="$path_kubectl is ${found:-of an unknown version}, outside v1.$lowest to v1.$highest (the local cluster runs $pinned)"
else
  why="no kubectl on PATH"
fi

cache=${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin/kubectl-$pinned
if [ -x "$cache/kubectl" ]; then
  echo "$cache"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "$why, and go is not on PATH to build kubectl $pinned from its Go module:"
  log "install Go 1.26 or newer, or a kubectl between v1.$lowest and v1.$highest"
  exit 1
fi
log "$why: building kubectl $pinned from its Go module, once"
built=$("$root/hack/build-tools.sh" --kubectl)
if [ "$built" != "$cache" ] || [ ! -x "$built/kubectl" ]; then
  log "hack/build-tools.sh --kubectl gave '$built', not $cache"
  exit 1
fi
echo "$built"
