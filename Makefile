# helloworld-operator: kubebuilder-style targets. `make help` lists them.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Every target runs on Node.js 24; hack/ensure-node.sh provisions it from the npm registry when the
# machine's node is older.
NODE_BIN := $(shell hack/ensure-node.sh)
ifeq ($(NODE_BIN),)
$(warning Node.js 24 could not be provisioned (hack/ensure-node.sh says why above); targets that run node will fail)
endif
export PATH := $(NODE_BIN):$(PATH)

# The targets that run kubectl use one that is supported against the local cluster's Kubernetes
# release: the machine's, or one built once from the pinned module (hack/ensure-kubectl.sh). Looked
# up when the first of them runs, not when make reads this file, so that `make help` never builds it
# and a machine without Go can still run every other target. KUBECTL=kubectl uses the one on PATH.
KUBECTL_BIN = $(eval KUBECTL_BIN := $(shell hack/ensure-kubectl.sh))$(KUBECTL_BIN)
KUBECTL ?= $(if $(KUBECTL_BIN),$(KUBECTL_BIN)/kubectl,kubectl)

KUBECONFIG ?= $(HOME)/.kube/config
export KUBECONFIG
IMG_API ?= helloworld-api:dev
IMG_OPERATOR ?= helloworld-operator:dev
# Empty: the Dockerfiles' own base image, pinned by digest. Set it to build on another Node 24 image.
BASE_IMAGE ?=

##@ General
.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development
node_modules: package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

.PHONY: deps
deps: node_modules ## Install npm dependencies (npm ci).

.PHONY: build
build: node_modules ## Compile TypeScript into dist/ (dist/api/main.js, dist/operator/main.js).
	npm run build

.PHONY: fmt
fmt: node_modules ## Format the code (prettier, eslint --fix).
	npm run fmt

.PHONY: lint
lint: node_modules ## Lint: eslint, prettier --check, no import cycles (hack/import-cycles.ts), actionlint on the workflows.
	npm run lint
	hack/actionlint.sh

.PHONY: typecheck
typecheck: node_modules ## Type-check everything, tests included (tsc --noEmit).
	npm run typecheck

.PHONY: unit
unit: node_modules promtool helm ## Run the unit tests (including promtool checks of the alert rules, and helm lint, helm template and the chart's drift from config/).
	npm run test:unit

.PHONY: promtool
promtool: ## Build (or reuse from the cache) promtool; prints its path.
	hack/promtool.sh --path

.PHONY: helm
helm: ## Build (or reuse from the cache) helm; prints its path.
	hack/helm.sh --path

.PHONY: lint-chart
lint-chart: helm ## helm lint + helm template of charts/helloworld-operator, and its drift from config/ (hack/sync-chart.sh re-syncs the copies).
	npm run test:unit -- --testPathPatterns 'hack/helm-chart'

.PHONY: lint-rules
lint-rules: promtool ## promtool check + unit tests of the Prometheus rules and dashboard queries.
	npm run test:unit -- --testPathPatterns 'operator/src/builders/monitoring\.rules'

.PHONY: integration
integration: node_modules ## Run the integration tests (real redis-server, real API server).
	npm run test:integration

# kind node image, pinned by digest in this one place (docs/e2e.md says how to move it).
KIND_NODE_IMAGE ?= kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5

.PHONY: e2e
e2e: node_modules ## The e2e suite on a throw-away kind cluster with real pods (needs Docker and kind; KEEP=1 keeps it).
	KIND_NODE_IMAGE=$(KIND_NODE_IMAGE) IMG_API=$(IMG_API) IMG_OPERATOR=$(IMG_OPERATOR) hack/e2e-kind.sh

.PHONY: e2e-local
e2e-local: node_modules ## The e2e suite on the local cluster (simulated nodes), operator as a local process.
	hack/e2e-local.sh

.PHONY: e2e-real
e2e-real: node_modules ## The e2e suite on the local cluster with a real node (root, Docker), operator in-cluster, real pods.
	IMG_API=$(IMG_API) IMG_OPERATOR=$(IMG_OPERATOR) hack/e2e-real.sh

.PHONY: images
images: ## Build the real node's images without a registry (Debian base, Node 24, Redis, pause, API, operator).
	IMG_API=$(IMG_API) IMG_OPERATOR=$(IMG_OPERATOR) hack/images.sh build

.PHONY: test
test: lint typecheck unit integration e2e-local e2e-real ## What CI runs: lint, type-check, unit, integration, e2e-local and e2e-real.

##@ Run
.PHONY: up
up: build ## Local cluster + operator + a sample HelloWorld answering HTTP (NODE=real|simulated; default: real when this host can).
	UP_NODE=$(if $(filter command line environment,$(origin NODE)),$(NODE),auto) IMG_API=$(IMG_API) IMG_OPERATOR=$(IMG_OPERATOR) hack/up.sh

.PHONY: demo
demo: ## A guided tour on the cluster of `make up`: a birthday stored, a good release under load, a bad one rolled back.
	@PATH="$$(hack/ensure-kubectl.sh):$$PATH" node hack/demo.ts

# The tour runs against the cluster of `make up`, unless KUBECONFIG is given.
demo: export KUBECONFIG := $(if $(filter environment command line,$(origin KUBECONFIG)),$(KUBECONFIG),$(CURDIR)/.cluster/kubeconfig)

.PHONY: down
down: ## Stop what `make up` started and remove the local cluster.
	hack/up.sh down

.PHONY: run-api
run-api: build ## Run the API locally (REDIS_URL, default redis://127.0.0.1:6379).
	node dist/api/main.js

.PHONY: smoke
smoke: build ## Smoke-test a running API (URL=http://127.0.0.1:8080).
	node dist/api/smoke.js --url $(or $(URL),http://127.0.0.1:8080)

.PHONY: bench-api
bench-api: build ## Benchmark the API against a bare node:http handler (needs redis-server).
	npm run bench:api

.PHONY: bench-operator
bench-operator: build ## Benchmark the operator at scale on the local cluster (N=300 HelloWorlds).
	npm run bench:operator

.PHONY: bench-hostile
bench-hostile: build ## Benchmark the operator against hostile pods, side by side with well-behaved ones (local cluster).
	npm run bench:hostile

.PHONY: run
run: build ## Run the operator as a local process against the current KUBECONFIG.
	node dist/operator/main.js

##@ Deployment
.PHONY: install
install: ## Install the CRDs into the cluster of KUBECONFIG.
	$(KUBECTL) apply --server-side -f crds/

.PHONY: uninstall
uninstall: ## Remove the CRDs from the cluster of KUBECONFIG.
	$(KUBECTL) delete --ignore-not-found -f crds/

.PHONY: deploy
deploy: ## Deploy the operator in-cluster (kubectl apply -k config/default).
	$(KUBECTL) apply --server-side -k config/default

.PHONY: undeploy
undeploy: ## Remove the in-cluster operator.
	$(KUBECTL) delete --ignore-not-found -k config/default

.PHONY: docker-build
docker-build: ## Build the API and operator images (BASE_IMAGE overrides the pinned Node 24 base).
	docker build -f Dockerfile.api $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) -t $(IMG_API) .
	docker build -f Dockerfile.operator $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) -t $(IMG_OPERATOR) .

# Local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok) built from Go modules.
include hack/cluster.mk
