# The pod sandbox image: Kubernetes' pause.c, compiled statically by hack/images.sh.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
