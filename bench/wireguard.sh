#!/bin/bash
# wireguard.sh - iperf3 TCP from a pod on host 1 to a pod on host 2
# (namespaces on a veth/bridge underlay, MTU 1500), in one run, over:
#   (a) kernel VXLAN set up by libovl (`ovlctl vxlan up` + `peer add`),
#   (b) WireGuard through wireguard-go, set up by libovl (`ovlctl wireguard
#       up --userspace wireguard-go` + `wireguard peer add`): this kernel has
#       no WireGuard module, so this is the path a node here would run;
# prints Gbit/s, the ratio b/a (no goal: wireguard-go encrypts in
# userspace, one packet at a time in this version) and ping RTTs; then
#   (c) key rotation without a restart: the two hosts run agents (`ovlctl
#       run`, a file store), pods ping each other every 10 ms both ways,
#       and each host's key is rotated in turn (`ovlctl wireguard rotate`):
#       the traffic gap of each rotation (goal: under 1 s).
#   bench/wireguard.sh [SECONDS]      (default 4; OVL_BUILD=build dir)
set -u
BENCH=wireguard.sh
. "$(dirname "$0")/lib-two-pods.sh"
. "$TOP/tests/netns/lib-ping-gap.sh"
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

# (c) the agents on the same hosts and keys; each lease keeps its subnet
# (subnet.env names it), so the pods keep their addresses.
for n in 1 2; do in_host $n "$OVLCTL" wireguard down >/dev/null; done
echo '{ "Network": "10.246.0.0/16", "Backend": { "Type": "wireguard" } }' > "$TMP/net-conf.json"
declare -A AGENT
for n in 1 2; do
	printf 'FLANNEL_NETWORK=10.246.0.0/16\nFLANNEL_SUBNET=10.246.%s.1/24\nFLANNEL_MTU=1420\n' $n > "$TMP/h$n.env"
	ip netns exec $ID-h$n sh -c 'mount --bind "$0" /run/wireguard && exec "$@"' "$TMP/run$n" \
		"$OVLCTL" --store "file:$TMP/leases.json" --config "$TMP/net-conf.json" run --node "h$n" \
		--iface eth0 --subnet-file "$TMP/h$n.env" --wireguard-userspace wireguard-go \
		--wireguard-key-file "$TMP/key$n" > "$TMP/h$n.log" 2>&1 &
	AGENT[$n]=$!
	PIDS+=("$!")
done
for _ in $(seq 200); do
	[ "$(cat "$TMP"/h*.log | grep -c 'notice: ready')" -ge 2 ] && break
	sleep 0.1
done
ip netns exec $P1 ping -c 3 -W 2 -q 10.246.2.2 >/dev/null 2>&1
for n in 1 2; do
	ip netns exec $ID-p1 ping -D -i 0.01 -c 400 -W 1 10.246.2.2 > "$TMP/to-2.txt" 2>&1 &
	ping1=$!
	ip netns exec $ID-p2 ping -D -i 0.01 -c 400 -W 1 10.246.1.2 > "$TMP/to-1.txt" 2>&1 &
	ping2=$!
	sleep 1.5
	in_host $n "$OVLCTL" wireguard rotate --pid "${AGENT[$n]}" --key-file "$TMP/key$n" >/dev/null ||
		echo "wireguard.sh: rotating h$n failed" >&2
	wait $ping1 $ping2
	g1=$(ping_gap_ms "$TMP/to-2.txt") g2=$(ping_gap_ms "$TMP/to-1.txt")
	printf '(c) key rotation on host %s: traffic gap %s ms pod 1 -> 2, %s ms pod 2 -> 1 (goal 1000 ms)\n' \
		$n "$g1" "$g2"
done
