##@ Local cluster
