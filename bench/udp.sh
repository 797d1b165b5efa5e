#!/bin/bash
# udp.sh - iperf3 TCP from a pod on host 1 to a pod on host 2 (namespaces
# on a veth/bridge underlay, MTU 1500), in one run, over:
#   (a) kernel VXLAN set up by libovl (`ovlctl vxlan up` + `peer add`),
#   (b) the UDP backend: batching, TSO on the TUN, UDP_SEGMENT, UDP_GRO,
#   (b0) the UDP backend batched without offloads (for the record),
#   (c) the UDP backend one packet per system call (flannel's design);
# prints Gbit/s, the ratios b/a and b/c, and the load average around each
# run (2 cores shared with other work distort everything).
#   bench/udp.sh [SECONDS]      (default 4; OVL_BUILD=build dir)
set -u
BENCH=udp.sh
. "$(dirname "$0")/lib-two-pods.sh"

A=$(vxlan_baseline) || exit 1

# udp_mode NAME FLAGS...: both hosts run the UDP loop with FLAGS.
udp_mode() {
	local name=$1 n m result; shift
	for n in 1 2; do
		m=$((3 - n))
		echo "[{\"subnet\":\"10.246.$m.0/24\",\"public_ip\":\"192.168.99.1$m\"}]" >"/tmp/$ID-peers-$n.json"
		ip netns exec $ID-h$n "$OVLCTL" udp run --local "192.168.99.1$n" --subnet "10.246.$n.0/24" \
			--network 10.246.0.0/16 --peers "/tmp/$ID-peers-$n.json" "$@" >/dev/null 2>&1 &
		PIDS+=($!)
	done
	for n in 1 2; do
		for _ in $(seq 50); do ip -n $ID-h$n link show flannel0 >/dev/null 2>&1 && break; sleep 0.1; done
	done
	pod_mtu 1472
	result=$(iperf "$name")
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	PIDS=()
	rm -f "/tmp/$ID-peers-1.json" "/tmp/$ID-peers-2.json"
	echo "$result"
}
B=$(udp_mode "(b) udp: batching + offloads")
B0=$(udp_mode "(b0) udp: batching, no offloads" --no-offload)
C=$(udp_mode "(c) udp: one packet per system call" --simple)

echo
printf '(a) kernel VXLAN                     %6.2f Gbit/s\n' "$A"
printf '(b) udp, batching + offloads         %6.2f Gbit/s\n' "$B"
printf '(b0) udp, batching, no offloads      %6.2f Gbit/s\n' "$B0"
printf '(c) udp, one packet per system call  %6.2f Gbit/s\n' "$C"
awk -v a="$A" -v b="$B" -v c="$C" 'BEGIN {
	printf "b/a = %.2f (goal >= 0.5)\n", (a > 0 ? b / a : 0)
	printf "b/c = %.2f\n", (c > 0 ? b / c : 0) }'
