// Wrapper module that builds containerd (daemon, runc shim and ctr) of one pinned release for the
// local cluster's real node (hack/node.sh). Debian bookworm ships containerd 1.6, and kubelet 1.36+
// talks only to containerd 2.x.
module github.com/helloworld-operator/hack/tools/containerd

go 1.26.0

require github.com/containerd/containerd/v2 v2.2.9 // indirect
