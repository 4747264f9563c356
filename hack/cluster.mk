##@ Local cluster
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (three simulated nodes)
# as local processes; see docs/local-cluster.md. The binaries are built from Go modules
# (hack/tools/*) and cached outside the repo, keyed by version.
CLUSTER_KUBECONFIG := $(CURDIR)/.cluster/kubeconfig

.PHONY: cluster-tools
cluster-tools: ## Build (or reuse from the cache) the cluster binaries (NODE=real: the node's too).
	hack/build-tools.sh $(if $(filter real,$(NODE)),--node)

# NODE=real: one real node on this host (containerd, kubelet, kube-proxy, CoreDNS) instead of the
# simulated ones, with the images of `make images` loaded; needs root and Docker.
NODE ?= simulated

.PHONY: cluster-up
cluster-up: ## Start the local cluster (idempotent; NODE=real for a real node); kubeconfig in .cluster/kubeconfig.
	CLUSTER_NODE=$(NODE) hack/cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop the local cluster and remove .cluster/.
	hack/cluster.sh down

.PHONY: cluster-status
cluster-status: ## Show the local cluster's components and health.
	hack/cluster.sh status

cluster-tools cluster-up cluster-down cluster-status: export KUBECONFIG := $(CLUSTER_KUBECONFIG)
