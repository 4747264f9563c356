#!/usr/bin/env bash
# Runs helm, building it first (once per version) from the Helm Go module that the wrapper module
# hack/tools/helm requires. helm lints, renders and installs the operator's chart
# (charts/helloworld-operator): `make unit` and the chart's tests use it.
#
#   hack/helm.sh ARGS...     passes ARGS to helm (e.g. lint charts/helloworld-operator)
#   hack/helm.sh --path      prints the binary's path, building it if needed
set -euo pipefail
# shellcheck source=hack/lib/go-tool.sh
. "$(dirname "$0")/lib/go-tool.sh"

# The ldflags mirror upstream's Makefile for a tagged release, so that `helm version` reports it
# (and the default Kubernetes version that `helm template` renders for, which helm derives from its
# client-go module).
binary=$(go_tool helm helm.sh/helm/v4 helm.sh/helm/v4/cmd/helm \
  "-s -w -X helm.sh/helm/v4/internal/version.version={version} -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean")

if [ "${1:-}" = "--path" ]; then
  echo "$binary"
  exit 0
fi
exec "$binary" "$@"
