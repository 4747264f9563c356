// Wrapper module that builds metrics-server of one pinned release for the local cluster's real node
// (hack/lib/real-node.sh), so that HorizontalPodAutoscalers get CPU metrics there.
module github.com/helloworld-operator/hack/tools/metrics-server

go 1.26.4

require sigs.k8s.io/metrics-server v0.9.0 // indirect
