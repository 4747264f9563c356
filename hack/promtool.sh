#!/usr/bin/env bash
# Runs promtool, building it first (once per version) from the Prometheus Go module that the wrapper
# module hack/tools/promtool requires. promtool checks and unit-tests the Prometheus rules in
# config/monitoring/ and the ones the operator generates per HelloWorld.
#
#   hack/promtool.sh check rules FILE...
#   hack/promtool.sh test rules TEST_FILE...
#   hack/promtool.sh --path      prints the binary's path, building it if needed
#
# Cache: ${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin/promtool-<version>/
# Progress goes to stderr. BUILD_PARALLELISM (default: number of cores) is passed to `go build -p`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=$root/hack/tools/promtool
cache=${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin
parallel=${BUILD_PARALLELISM:-$(nproc 2>/dev/null || echo 2)}

log() { echo "promtool.sh: $*" >&2; }

# The version is read from go.mod directly, so a warm cache needs neither go nor the network.
version=$(awk '$1 == "github.com/prometheus/prometheus" { print $2; exit }' "$module/go.mod")
if [ -z "$version" ]; then
  log "cannot find the github.com/prometheus/prometheus requirement in $module/go.mod"
  exit 1
fi
dest=$cache/promtool-$version

if [ ! -x "$dest/promtool" ]; then
  if ! command -v go >/dev/null 2>&1; then
    log "go is not on PATH; promtool is built from the Prometheus Go module (Go 1.26 or newer)"
    exit 1
  fi
  mkdir -p "$cache"
  # Build next to the cache entry and rename into place, so an interrupted build never looks finished.
  tmp=$(mktemp -d "$cache/.promtool-$version.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  log "building promtool $version into $dest; a cold build takes several minutes"
  start=$SECONDS
  # Prometheus 3.x.y is published as the Go module version v0.3xx.y; the ldflags mirror upstream's
  # .promu.yml, so that `promtool --version` reports the release rather than an empty version.
  minor_patch=${version#v0.3}
  release=3.$((10#${minor_patch%%.*})).${minor_patch#*.}
  ldflags="-s -w -X github.com/prometheus/common/version.Version=$release"
  ldflags+=" -X github.com/prometheus/common/version.Branch=module -X github.com/prometheus/common/version.Revision=$version"
  if ! (cd "$module" && CGO_ENABLED=0 go build -p "$parallel" -trimpath -tags netgo \
    -ldflags "$ldflags" -o "$tmp/promtool" github.com/prometheus/prometheus/cmd/promtool >&2); then
    log "building promtool $version failed"
    exit 1
  fi
  log "built promtool $version in $((SECONDS - start))s"
  # A concurrent run may have finished first; its binary is the same.
  if [ -x "$dest/promtool" ]; then
    rm -rf "$tmp"
  else
    rm -rf "$dest"
    mv "$tmp" "$dest"
  fi
  trap - EXIT
fi

if [ "${1:-}" = "--path" ]; then
  echo "$dest/promtool"
  exit 0
fi
exec "$dest/promtool" "$@"
