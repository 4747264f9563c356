// Wrapper module that builds crictl of one pinned cri-tools release: the real node's teardown
// (hack/lib/real-node.sh) removes its pod sandboxes through the CRI, so that networks are torn down
// by their CNI plugins, and it helps to debug the node.
module github.com/helloworld-operator/hack/tools/crictl

go 1.26.6

require sigs.k8s.io/cri-tools v1.37.0 // indirect
