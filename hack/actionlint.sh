#!/usr/bin/env bash
# Runs actionlint on the GitHub Actions workflows, building it first (once per version) from the Go
# module that the wrapper module hack/tools/actionlint requires.
#
#   hack/actionlint.sh            checks every workflow in .github/workflows/
#   hack/actionlint.sh ARGS...    passes ARGS to actionlint (e.g. -verbose FILE)
#   hack/actionlint.sh --path     prints the binary's path, building it if needed
#
# Cache: ${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin/actionlint-<version>/
# Progress goes to stderr. BUILD_PARALLELISM (default: number of cores) is passed to `go build -p`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=$root/hack/tools/actionlint
cache=${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin
parallel=${BUILD_PARALLELISM:-$(nproc 2>/dev/null || echo 2)}

log() { echo "actionlint.sh: $*" >&2; }

# The version is read from go.mod directly, so a warm cache needs neither go nor the network.
version=$(awk '$1 == "github.com/rhysd/actionlint" { print $2; exit }' "$module/go.mod")
if [ -z "$version" ]; then
  log "cannot find the github.com/rhysd/actionlint requirement in $module/go.mod"
  exit 1
fi
dest=$cache/actionlint-$version

if [ ! -x "$dest/actionlint" ]; then
  if ! command -v go >/dev/null 2>&1; then
    log "go is not on PATH; actionlint is built from its Go module (Go 1.26 or newer)"
    exit 1
  fi
  mkdir -p "$cache"
  # Build next to the cache entry and rename into place, so an interrupted build never looks finished.
  tmp=$(mktemp -d "$cache/.actionlint-$version.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  log "building actionlint $version into $dest"
  start=$SECONDS
  # The version ldflag mirrors upstream's release build, so that `actionlint -version` reports it.
  if ! (cd "$module" && CGO_ENABLED=0 nice go build -p "$parallel" -trimpath \
    -ldflags "-s -w -X github.com/rhysd/actionlint.version=${version#v}" \
    -o "$tmp/actionlint" github.com/rhysd/actionlint/cmd/actionlint >&2); then
    log "building actionlint $version failed"
    exit 1
  fi
  log "built actionlint $version in $((SECONDS - start))s"
  # A concurrent run may have finished first; its binary is the same.
  if [ -x "$dest/actionlint" ]; then
    rm -rf "$tmp"
  else
    rm -rf "$dest"
    mv "$tmp" "$dest"
  fi
  trap - EXIT
fi

if [ "${1:-}" = "--path" ]; then
  echo "$dest/actionlint"
  exit 0
fi
cd "$root"
# shellcheck is used for `run:` scripts when it is installed; actionlint skips that check otherwise.
exec "$dest/actionlint" "$@"
