# shellcheck shell=bash
# The Debian packages the local cluster needs, in one place: sourced by .ci/run and hack/up.sh.
#
#   missing_packages base   what the tests and a simulated cluster need (redis-server for the API's
#                           tests; openssl and curl for the cluster's certificates and probes)
#   missing_packages real   the same, plus what a real node needs: runc, the CNI plugins, iptables,
#                           conntrack, Docker (to build images), debootstrap (their base) and a static
#                           libc (the pause binary)
#   install_packages NAME…  apt-get install, quietly (root only)
#
# missing_packages prints the names of the packages that are not installed, space-separated.

missing_packages() {
  local missing=()
  have() { command -v "$1" >/dev/null || missing+=("$2"); }
  have redis-server redis-server
  have openssl openssl
  have curl curl
  if [ "${1:-base}" = real ]; then
    have runc runc
    have iptables iptables
    have conntrack conntrack
    have dockerd docker.io
    have debootstrap debootstrap
    have gcc gcc
    [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
    [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/aarch64-linux-gnu/libc.a ] || missing+=(libc6-dev)
  fi
  echo "${missing[*]}"
}

install_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@"
}
