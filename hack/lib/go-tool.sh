# Sourced by the scripts that build a Go tool from a wrapper module in hack/tools/<name> (promtool,
# actionlint): builds it once per version into the cache outside the repo and prints its path.
#
#   go_tool NAME REQUIRED_MODULE PACKAGE LDFLAGS [BUILD_TAGS]
#
# NAME is the binary and the folder hack/tools/NAME; the version is the one of REQUIRED_MODULE in that
# folder's go.mod, read directly so that a warm cache needs neither go nor the network. In LDFLAGS,
# {version} stands for that version. Cache:
# ${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin/NAME-<version>/NAME.
# Progress goes to stderr; BUILD_PARALLELISM (default: number of cores) is passed to `go build -p`.

go_tool() {
  local name=$1 required=$2 package=$3 ldflags=$4 tags=${5:-}
  local root module cache parallel version dest tmp start
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  module=$root/hack/tools/$name
  cache=${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/bin
  parallel=${BUILD_PARALLELISM:-$(nproc 2>/dev/null || echo 2)}
  version=$(awk -v m="$required" '$1 == m { print $2; exit }' "$module/go.mod")
  if [ -z "$version" ]; then
    echo "$name: cannot find the $required requirement in $module/go.mod" >&2
    return 1
  fi
  dest=$cache/$name-$version
  if [ ! -x "$dest/$name" ]; then
    if ! command -v go >/dev/null 2>&1; then
      echo "$name: go is not on PATH; $name is built from its Go module (Go 1.26 or newer)" >&2
      return 1
    fi
    mkdir -p "$cache"
    # Build next to the cache entry and rename into place, so an interrupted build never looks finished.
    tmp=$(mktemp -d "$cache/.$name-$version.XXXXXX")
    echo "$name: building $version into $dest" >&2
    start=$SECONDS
    if ! (cd "$module" && CGO_ENABLED=0 go build -p "$parallel" -trimpath ${tags:+-tags "$tags"} \
      -ldflags "${ldflags//\{version\}/$version}" -o "$tmp/$name" "$package" >&2); then
      rm -rf "$tmp"
      echo "$name: building $version failed" >&2
      return 1
    fi
    echo "$name: built $version in $((SECONDS - start)) s" >&2
    # A concurrent run may have finished first; its binary is the same.
    if [ -x "$dest/$name" ]; then
      rm -rf "$tmp"
    else
      rm -rf "$dest"
      mv "$tmp" "$dest"
    fi
  fi
  echo "$dest/$name"
}
