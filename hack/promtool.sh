#!/usr/bin/env bash
# Runs promtool, building it first (once per version) from the Prometheus Go module that the wrapper
# module hack/tools/promtool requires. promtool checks and unit-tests the Prometheus rules in
# config/monitoring/ and the ones the operator generates per HelloWorld.
#
#   hack/promtool.sh check rules FILE...
#   hack/promtool.sh test rules TEST_FILE...
#   hack/promtool.sh --path      prints the binary's path, building it if needed
set -euo pipefail
# shellcheck source=hack/lib/go-tool.sh
. "$(dirname "$0")/lib/go-tool.sh"

# Prometheus 3.x.y is published as the Go module version v0.3xx.y; the ldflags mirror upstream's
# .promu.yml, so that `promtool --version` reports the release rather than an empty version.
version=$(awk '$1 == "github.com/prometheus/prometheus" { print $2; exit }' "$(dirname "$0")/tools/promtool/go.mod")
minor_patch=${version#v0.3}
release=3.$((10#${minor_patch%%.*})).${minor_patch#*.}
binary=$(go_tool promtool github.com/prometheus/prometheus github.com/prometheus/prometheus/cmd/promtool \
  "-s -w -X github.com/prometheus/common/version.Version=$release -X github.com/prometheus/common/version.Branch=module -X github.com/prometheus/common/version.Revision={version}" \
  netgo)

if [ "${1:-}" = "--path" ]; then
  echo "$binary"
  exit 0
fi
exec "$binary" "$@"
