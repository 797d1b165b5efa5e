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
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${OVL_BUILD:-$TOP/build}
OVLCTL=$BUILD/ovlctl
export LD_LIBRARY_PATH="$BUILD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
SECS=${1:-4}
ID="ob$$"
SW=$ID-sw H1=$ID-h1 H2=$ID-h2 P1=$ID-p1 P2=$ID-p2
PIDS=()
cleanup() {
	local pid ns
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	for ns in $SW $H1 $H2 $P1 $P2; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	sleep 0.2
	for ns in $SW $H1 $H2 $P1 $P2; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT INT TERM
command -v wireguard-go >/dev/null || { echo "wireguard.sh: install wireguard-go (apt-get install --no-install-recommends wireguard-go)" >&2; exit 1; }
[ -x "$OVLCTL" ] || { echo "wireguard.sh: build $OVLCTL first" >&2; exit 1; }

for ns in $SW $H1 $H2 $P1 $P2; do ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1; done
ip -n $SW link add br0 type bridge && ip -n $SW link set br0 up
for n in 1 2; do
	h=$ID-h$n p=$ID-p$n
	ip link add eth0 netns "$h" type veth peer name "h$n" netns $SW
	ip -n $SW link set "h$n" master br0 up
	ip -n "$h" addr add "192.168.99.1$n/24" dev eth0
	ip -n "$h" link set eth0 up
	ip netns exec "$h" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$h" link add cni0 type bridge
	ip -n "$h" addr add "10.246.$n.1/24" dev cni0
	ip -n "$h" link set cni0 up
	ip -n "$h" link add vp type veth peer name eth0 netns "$p"
	ip -n "$h" link set vp master cni0 up
	ip -n "$p" addr add "10.246.$n.2/24" dev eth0
	ip -n "$p" link set eth0 up
	ip -n "$p" route add default via "10.246.$n.1"
done
# Pods get the overlay's MTU, as subnet.env would tell the CNI plugin.
pod_mtu() { for n in 1 2; do ip -n $ID-p$n link set eth0 mtu "$1"; ip -n $ID-h$n link set vp mtu "$1"; done; }

# iperf NAME: Gbit/s of one run, pod 1 -> pod 2, on stdout; the run and
# the 1-minute load average before it on stderr.
iperf() {
	local out gbps load
	ip netns exec $P2 iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
	sleep 0.3
	load=$(cut -d' ' -f1 /proc/loadavg)
	out=$(ip netns exec $P1 timeout $((SECS + 10)) iperf3 -c 10.246.2.2 -p 5301 -t "$SECS" -J 2>&1)
	wait
	gbps=$(echo "$out" | jq -r '.end.sum_received.bits_per_second / 1e9' 2>/dev/null)
	[ -n "$gbps" ] && [ "$gbps" != null ] || { echo "wireguard.sh: $1: iperf3 failed: $out" >&2; gbps=0; }
	printf '%-40s %6.2f Gbit/s   (load before: %s)\n' "$1" "$gbps" "$load" >&2
	echo "$gbps"
}

# (a) kernel VXLAN
for n in 1 2; do
	ip netns exec $ID-h$n "$OVLCTL" vxlan up --local "192.168.99.1$n" --subnet "10.246.$n.0/24" \
		--network 10.246.0.0/16 >/dev/null || exit 1
done
for n in 1 2; do
	m=$((3 - n))
	mac=$(ip netns exec $ID-h$m "$OVLCTL" --json vxlan show | jq -r .mac)
	ip netns exec $ID-h$n "$OVLCTL" peer add --subnet "10.246.$m.0/24" --public-ip "192.168.99.1$m" \
		--mac "$mac" || exit 1
done
pod_mtu 1450
A=$(iperf "(a) kernel VXLAN")
for n in 1 2; do ip netns exec $ID-h$n "$OVLCTL" vxlan down >/dev/null; done

# (b) wireguard-go; each host with its own /run/wireguard (see
# tests/netns/test-wireguard.sh), its key in a temporary directory.
TMP=$(mktemp -d /tmp/ovl-wg-bench.XXXXXX)
trap 'cleanup; rm -rf "$TMP"' EXIT INT TERM
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
