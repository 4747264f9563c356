# shellcheck shell=bash
# What this host offers the local cluster, in one place: the Debian packages it needs (sourced by
# .ci/run and hack/up.sh), and which kind of node `make up` can start here.
#
#   missing_packages base   what the tests and a simulated cluster need (redis-server for the API's
#                           tests; openssl and curl for the cluster's certificates and probes)
#   missing_packages real   the same, plus what a real node needs: runc, the CNI plugins, iproute2, iptables,
#                           conntrack, Docker (to build images), debootstrap (their base) and a static
#                           libc (the pause binary)
#   install_packages NAME…  apt-get install, quietly (root only)
#   choose_node ASKED       real or simulated, for ASKED = real, simulated or auto (see hack/up.sh);
#                           says on stderr why auto chose simulated nodes; installs the real node's
#                           missing packages when ASKED is real (root only)
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
    have ip iproute2
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

choose_node() {
  local asked=$1 missing
  missing=$(missing_packages real)
  case $asked in
    simulated) echo simulated ;;
    real)
      if [ "$(id -u)" != 0 ]; then
        echo "up: a real node needs root (containers, mounts, iptables): sudo make up NODE=real" >&2
        return 1
      fi
      if [ -n "$missing" ]; then
        echo "up: installing the Debian packages a real node needs: $missing" >&2
        # shellcheck disable=SC2086 # one word per package
        install_packages $missing >&2
      fi
      echo real
      ;;
    auto)
      if [ "$(id -u)" != 0 ]; then
        echo "up: simulated nodes: real pods need root; for them, run: sudo make up NODE=real" >&2
        echo simulated
      elif [ -n "$missing" ]; then
        echo "up: simulated nodes: real pods need these Debian packages: apt-get install -y $missing (or: make up NODE=real installs them)" >&2
        echo simulated
      else
        echo real
      fi
      ;;
    *)
      echo "up: NODE must be real, simulated or auto, not '$asked'" >&2
      return 1
      ;;
  esac
}
