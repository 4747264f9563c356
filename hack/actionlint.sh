#!/usr/bin/env bash
# Runs actionlint on the GitHub Actions workflows, building it first (once per version) from the Go
# module that the wrapper module hack/tools/actionlint requires.
#
#   hack/actionlint.sh            checks every workflow in .github/workflows/
#   hack/actionlint.sh ARGS...    passes ARGS to actionlint (e.g. -verbose FILE)
#   hack/actionlint.sh --path     prints the binary's path, building it if needed
set -euo pipefail
# shellcheck source=hack/lib/go-tool.sh
. "$(dirname "$0")/lib/go-tool.sh"

# The version ldflag mirrors upstream's release build, so that `actionlint -version` reports it.
version=$(awk '$1 == "github.com/rhysd/actionlint" { print $2; exit }' "$(dirname "$0")/tools/actionlint/go.mod")
binary=$(go_tool actionlint github.com/rhysd/actionlint github.com/rhysd/actionlint/cmd/actionlint \
  "-s -w -X github.com/rhysd/actionlint.version=${version#v}")

if [ "${1:-}" = "--path" ]; then
  echo "$binary"
  exit 0
fi
cd "$(dirname "$0")/.."
# shellcheck is used for `run:` scripts when it is installed; actionlint skips that check otherwise.
exec "$binary" "$@"
