#!/bin/bash
# wireguard.sh - iperf3 TCP from a pod on host 1 to a pod on host 2
# (namespaces on a veth/bridge underlay, MTU 1500), in one run, over:
#   (a) kernel VXLAN set up by libovl (`ovlctl vxlan up` + `peer add`),
#   (b) WireGuard through wireguard-go, set up by libovl (`ovlctl wireguard
#       up --userspace wireguard-go` + `wireguard peer add`): this kernel has
#       no WireGuard module, so this is the path a node here would run;
# prints Gbit/s, the ratio b/a (no goal: wireguard-go encrypts in
# userspace, one packet at a time in this version) and ping RTTs.
#   bench/wireguard.sh [SECONDS]      (default 4; OVL_BUILD=build dir)
set -u
BENCH=wireguard.sh
. "$(dirname "$0")/lib-two-pods.sh"
command -v wireguard-go >/dev/null || { echo "wireguard.sh: install wireguard-go (apt-get install --no-install-recommends wireguard-go)" >&2; exit 1; }

A=$(vxlan_baseline) || exit 1

# (b) wireguard-go; each host with its own /run/wireguard (see
# tests/netns/test-wireguard.sh), its key in a temporary directory.
TMP=$(mktemp -d /tmp/ovl-wg-bench.XXXXXX)
BENCH_TMP=$TMP
mkdir -p /run/wireguard
in_host() {
	local n=$1; shift
	mkdir -p "$TMP/run$n"
	ip netns exec $ID-h$n sh -c 'mount --bind "$0" /run/wireguard && exec "$@"' "$TMP/run$n" "$@"
}
for n in 1 2; do
	in_host $n "$OVLCTL" wireguard up --local "192.168.99.1$n" --subnet "10.246.$n.0/24" \
		--network 10.246.0.0/16 --key-file "$TMP/key$n" --userspace wireguard-go >/dev/null 2>&1 ||
		{ echo "wireguard.sh: wireguard up failed on host $n" >&2; exit 1; }
done
for n in 1 2; do
	m=$((3 - n))
	in_host $n "$OVLCTL" wireguard peer add --subnet "10.246.$m.0/24" \
		--public-ip "192.168.99.1$m" --public-key "$("$OVLCTL" wireguard pubkey < "$TMP/key$m")" || exit 1
done
pod_mtu 1420
ip netns exec $P1 ping -c 3 -W 2 -q 10.246.2.2 >/dev/null 2>&1	# the handshake
B=$(iperf "(b) WireGuard, wireguard-go")
rtt=$(ip netns exec $P1 ping -c 20 -i 0.05 -q 10.246.2.2 | sed -n 's/^rtt .* = //p')
echo "ping RTT min/avg/max/mdev over wireguard-go: $rtt"
printf 'b/a = %.3f\n' "$(echo "$B $A" | awk '{ print ($2 > 0) ? $1 / $2 : 0 }')"
