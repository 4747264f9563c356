#!/usr/bin/env bash
# Prints the directory of a Node.js 24 binary, provisioning it from the npm registry when the
# `node` on PATH is older. The binary is cached outside the repo, keyed by version, and linked
# into the git-ignored .tools/ folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want=$(cat "$root/.nvmrc")
major=${want%%.*}
if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
  dirname "$(command -v node)"
  exit 0
fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "ensure-node: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
cache=${HELLO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helloworld-operator}/node-$want-$arch
bin=$cache/node_modules/node-linux-$arch/bin
if [ ! -x "$bin/node" ]; then
  echo "ensure-node: installing Node.js $want from the npm registry into $cache" >&2
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-package-lock --ignore-scripts --loglevel=error \
    "node-linux-$arch@$want" >&2
fi
mkdir -p "$root/.tools"
ln -sfn "$bin" "$root/.tools/node-bin"
echo "$root/.tools/node-bin"
