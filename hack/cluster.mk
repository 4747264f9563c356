##@ Local cluster
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (three simulated nodes)
# as local processes; see docs/local-cluster.md. The binaries are built from Go modules
# (hack/tools/*) and cached outside the repo, keyed by version.
CLUSTER_KUBECONFIG := $(CURDIR)/.cluster/kubeconfig

.PHONY: cluster-tools
cluster-tools: ## Build (or reuse from the cache) the cluster binaries; prints their directories.
	hack/build-tools.sh

.PHONY: cluster-up
cluster-up: ## Start the local cluster (idempotent); admin kubeconfig in .cluster/kubeconfig.
	hack/cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop the local cluster and remove .cluster/.
	hack/cluster.sh down

.PHONY: cluster-status
cluster-status: ## Show the local cluster's components and health.
	hack/cluster.sh status

cluster-tools cluster-up cluster-down cluster-status: export KUBECONFIG := $(CLUSTER_KUBECONFIG)
