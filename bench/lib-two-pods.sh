# lib-two-pods.sh - sourced by the iperf3 benchmarks (udp.sh, wireguard.sh):
# two hosts in namespaces on a veth/bridge underlay (192.168.99.11 and .12,
# MTU 1500), a pod behind each (10.246.N.2 behind cni0), cleanup of every
# namespace and process on exit, pod_mtu, one timed iperf3 run, and the
# kernel VXLAN baseline both compare with.  Set BENCH (the script's name
# for messages) first; BENCH_TMP, when set, is removed on exit.
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
	[ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
}
trap cleanup EXIT INT TERM
[ -x "$OVLCTL" ] || { echo "$BENCH: build $OVLCTL first" >&2; exit 1; }

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
	[ -n "$gbps" ] && [ "$gbps" != null ] || { echo "$BENCH: $1: iperf3 failed: $out" >&2; gbps=0; }
	printf '%-40s %6.2f Gbit/s   (load before: %s)\n' "$1" "$gbps" "$load" >&2
	echo "$gbps"
}


# vxlan_baseline: Gbit/s over kernel VXLAN set up by libovl (`ovlctl vxlan
# up` + `peer add`), on stdout; the devices are removed after.
vxlan_baseline() {
	local n m mac result
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
	result=$(iperf "(a) kernel VXLAN")
	for n in 1 2; do ip netns exec $ID-h$n "$OVLCTL" vxlan down >/dev/null; done
	echo "$result"
}
