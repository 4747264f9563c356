# Redis 7 from Debian's redis-server package, on the local Debian base (hack/images.sh). The operator
# runs it as uid 999 with its own /etc/redis/redis.conf, as it does the official image.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && redis-server --version
