# metrics-server, built from its Go module by hack/build-tools.sh --node (static binary).
FROM scratch
COPY metrics-server /metrics-server
USER 65534:65534
ENTRYPOINT ["/metrics-server"]
