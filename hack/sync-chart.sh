#!/usr/bin/env bash
# Copies the canonical sources that the Helm chart ships verbatim into charts/helloworld-operator/files/:
# the CRD, the operator's ClusterRole rules, its PrometheusRule and the Grafana dashboards. A chart can
# read only files inside its own directory, and a packaged chart must stand alone, so these are copies;
# hack/helm-chart.test.ts fails when one differs from its source, or when the rendered chart and
# config/ disagree in any other field.
#
#   hack/sync-chart.sh           copies every source over its copy
#   hack/sync-chart.sh --check   exits 1, naming the stale copies, when a copy differs from its source
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
files=charts/helloworld-operator/files

# source:copy, relative to the repository.
pairs=(
  "crds/hello.dev_helloworlds.yaml:$files/crds/hello.dev_helloworlds.yaml"
  "config/rbac/role.yaml:$files/rbac/role.yaml"
  "config/monitoring/operator-rules.yaml:$files/monitoring/operator-rules.yaml"
)
for dashboard in "$root"/config/monitoring/dashboards/*.json; do
  pairs+=("config/monitoring/dashboards/${dashboard##*/}:$files/monitoring/dashboards/${dashboard##*/}")
done

cd "$root"
stale=0
for pair in "${pairs[@]}"; do
  source=${pair%%:*} copy=${pair#*:}
  if [ "${1:-}" = --check ]; then
    if ! cmp -s "$source" "$copy"; then
      echo "$copy is not a copy of $source: run hack/sync-chart.sh" >&2
      stale=1
    fi
  else
    mkdir -p "$(dirname "$copy")"
    cp "$source" "$copy"
  fi
done
# A dashboard removed from config/ must not linger in the chart.
for copy in "$files"/monitoring/dashboards/*.json; do
  [ -e "$copy" ] || continue
  if [ ! -e "config/monitoring/dashboards/${copy##*/}" ]; then
    if [ "${1:-}" = --check ]; then
      echo "$copy has no source in config/monitoring/dashboards/: run hack/sync-chart.sh" >&2
      stale=1
    else
      rm "$copy"
    fi
  fi
done
exit "$stale"
