#!/bin/sh
# install-deps.sh - installs the Debian packages that building libovl and
# running all its tests and the demo need, when any is missing.
# --no-install-recommends matters: wireguard-go and wireguard-tools would
# otherwise pull in a kernel image, initramfs-tools and udev.  prometheus
# is there for its promtool (tests/netns/test-production.sh checks /metrics
# with it); on a machine that runs systemd, installing it also enables
# Debian's prometheus.service.
set -e
packages="build-essential g++ autoconf automake libtool pkg-config
libnl-3-dev libnl-route-3-dev libjansson-dev libcurl4-openssl-dev libcunit1-dev libyaml-dev
libnftables-dev nftables libssl-dev libmicrohttpd-dev
iproute2 iputils-ping tcpdump jq procps util-linux python3 curl openssl prometheus
etcd-server etcd-client containernetworking-plugins iperf3
clang libclang-rt-14-dev
wireguard-go wireguard-tools
golang-go abigail-tools golang-github-appc-cni-dev iptables curl
dpkg-dev debhelper dh-autoreconf dh-python lintian"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
