#!/usr/bin/env bash
# `make e2e-local`: the e2e suite (test/e2e/) against the local cluster of this repository
# (hack/cluster.sh; started by the suite's globalSetup when it is not up), with the operator run by
# the suite as local processes (dist/operator/main.js). Pods are simulated there (the suite sees kwok's
# markers on the nodes), so the scenarios that need real pods are reported as skipped, with the reason.
# See docs/e2e.md.
#
# Extra arguments go to Jest, e.g. `hack/e2e-local.sh test/e2e/rollback.test.ts`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# A plain assignment (PATH is exported already), so that set -e stops here when Node 24 cannot be had.
PATH="$("$root/hack/ensure-node.sh"):$PATH"

echo "e2e-local: building (tsc -b)" >&2
npx tsc -b

# shellcheck source=hack/lib/e2e-suite.sh
. hack/lib/e2e-suite.sh
run_e2e_suite local "$@"
