#!/usr/bin/env bash
# Deploys one kustomize overlay with an image and waits for the operator's verdict on it: the step that
# .github/workflows/deploy.yaml runs for review, then for live (docs/pipeline.md).
#
#   deploy/deploy.sh OVERLAY_DIR IMAGE [TIMEOUT]
#
# IMAGE replaces the placeholder image `hello-api` of deploy/base (best by digest: repo@sha256:...).
# The rendered objects are applied with server-side apply (field manager deploy-pipeline, taking over
# fields changed by hand: git is the source of truth), then deploy/wait-for-verdict.ts waits for every
# HelloWorld among them, on the generation the apply returned. kubectl uses KUBECONFIG as usual.
#
# Exit: 0 every HelloWorld Available; 1 one was rolled back or failed; 2 no verdict within TIMEOUT
# (default 15m); 3 bad arguments; 4 the overlay did not render or apply, or holds no HelloWorld.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 OVERLAY_DIR IMAGE [TIMEOUT]" >&2
  exit 3
fi
overlay=$1 image=$2 timeout=${3:-15m}
here=$(cd "$(dirname "$0")" && pwd)
kubectl=${KUBECTL:-kubectl}

if [ ! -f "$overlay/kustomization.yaml" ] && [ ! -f "$overlay/kustomization.yml" ]; then
  echo "no kustomization in $overlay" >&2
  exit 3
fi
# An image reference: written into YAML below, so nothing but the characters a reference may hold.
if ! [[ $image =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]]; then
  echo "not an image reference: $image" >&2
  exit 3
fi

work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/deploy.XXXXXX")
trap 'rm -rf "$work"' EXIT
# kustomize refuses absolute paths to resources: the overlay is named relative to this kustomization.
cat >"$work/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$work" "$overlay")
images:
  - name: hello-api
    newName: "$image"
EOF

if ! "$kubectl" kustomize "$work" >"$work/rendered.yaml"; then
  echo "the overlay $overlay does not render" >&2
  exit 4
fi
echo "applying $overlay with image $image"
if ! "$kubectl" apply --server-side --force-conflicts --field-manager=deploy-pipeline \
  -f "$work/rendered.yaml" -o json >"$work/applied.json"; then
  echo "applying $overlay failed" >&2
  exit 4
fi

# NAMESPACE/NAME GENERATION of each HelloWorld the apply returned (one object, or a List of several).
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
targets=$(node -e '
  const applied = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  for (const o of applied.kind === "List" ? applied.items : [applied]) {
    if (o.kind === "HelloWorld") console.log(`${o.metadata.namespace}/${o.metadata.name} ${o.metadata.generation}`);
  }' <"$work/applied.json")
if [ -z "$targets" ]; then
  echo "the overlay $overlay holds no HelloWorld: nothing to wait for" >&2
  exit 4
fi

worst=0
while read -r target generation; do
  code=0
  node "$here/wait-for-verdict.ts" "$target" --generation "$generation" --timeout "$timeout" || code=$?
  if [ "$code" -gt "$worst" ]; then worst=$code; fi
done <<<"$targets"
exit "$worst"
