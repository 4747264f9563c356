# helloworld-operator: kubebuilder-style targets. `make help` lists them.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Every target runs on Node.js 24; hack/ensure-node.sh provisions it from the npm registry when the
# machine's node is older.
NODE_BIN := $(shell hack/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)

KUBECONFIG ?= $(HOME)/.kube/config
export KUBECONFIG
IMG_API ?= helloworld-api:dev
IMG_OPERATOR ?= helloworld-operator:dev
BASE_IMAGE ?= node:24-bookworm-slim

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
lint: node_modules ## Lint (eslint) and check formatting (prettier).
	npm run lint

.PHONY: typecheck
typecheck: node_modules ## Type-check everything, tests included (tsc --noEmit).
	npm run typecheck

.PHONY: unit
unit: node_modules ## Run the unit tests.
	npm run test:unit

.PHONY: integration
integration: node_modules ## Run the integration tests (real redis-server, real API server).
	npm run test:integration

.PHONY: test
test: lint typecheck unit integration ## What CI runs: lint, type-check, unit and integration tests.

##@ Run
.PHONY: up
up: build ## Main job: local cluster + CRD + operator (local process) + a sample HelloWorld, then show it.
	hack/up.sh

.PHONY: down
down: ## Stop what `make up` started and remove the local cluster.
	hack/up.sh down

.PHONY: run-api
run-api: build ## Run the API locally (REDIS_URL, default redis://127.0.0.1:6379).
	node dist/api/main.js

.PHONY: run
run: build ## Run the operator as a local process against the current KUBECONFIG.
	node dist/operator/main.js

##@ Deployment
.PHONY: install
install: ## Install the CRDs into the cluster of KUBECONFIG.
	kubectl apply --server-side -f crds/

.PHONY: uninstall
uninstall: ## Remove the CRDs from the cluster of KUBECONFIG.
	kubectl delete --ignore-not-found -f crds/

.PHONY: deploy
deploy: ## Deploy the operator in-cluster (kubectl apply -k config/default).
	kubectl apply --server-side -k config/default

.PHONY: undeploy
undeploy: ## Remove the in-cluster operator.
	kubectl delete --ignore-not-found -k config/default

.PHONY: docker-build
docker-build: ## Build the API and operator images (BASE_IMAGE selects the Node 24 base).
	docker build -f Dockerfile.api --build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMG_API) .
	docker build -f Dockerfile.operator --build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMG_OPERATOR) .

# Local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok) built from Go modules.
include hack/cluster.mk
