#!/bin/bash
# converge.sh - how fast the overlay converges with the embedded agent on the
# file store: three hosts run `ovlctl run`; a fourth host's agent starts and
# the time until the pods of all three reach its pod is measured (join, median
# of 5), then its agent stops with --teardown and the time until its route is
# gone from all three is measured (leave, median of 5).  For comparison, the
# same kernel state made by hand with iproute2 (device, address, and each
# side's neighbour + fdb + route: the bare setup steps) is timed too.
# Root; network namespaces only (tests/netns/lib.sh); goal: join < 250 ms.
#
#   sudo bench/converge.sh          OVL_BUILD=DIR for another build (default build/)
set -u
shm=
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/netns/lib.sh"
cleanup() {
	t_cleanup
	rm -rf "$shm"
}
trap 'exit 130' INT TERM
trap cleanup EXIT
# The real binary, not libtool's wrapper script (half a second per start).
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
[ -x "$OVLCTL" ] || { echo "converge: build first ($OVLCTL missing)"; exit 1; }

ROUNDS=${ROUNDS:-5}
# The store lives on tmpfs (as /run does on a real host): on this disk a
# busy machine can stall one write for seconds, which is not what we measure.
shm=$(mktemp -d /dev/shm/ovl-converge.XXXXXX)
store="file:$shm/leases.json"
conf="$T_TMP/net-conf.json"
echo '{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }' > "$conf"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# host N SUBNET_OCTET: host hN at 192.168.77.N with a pod 10.244.OCTET.2 behind
# cni0; subnet.env is pre-written so the agent keeps that subnet.
host() {
	node_host "$sw" "h$1" "192.168.77.$1/24" "$2" || exit 1
}
agent() { # NS NAME: starts the agent, prints its PID
	ip netns exec "$1" "$OVLCTL" --store "$store" --config "$conf" run --node "$2" \
		--iface eth0 --subnet-file "$T_TMP/$2.env" --teardown > "$T_TMP/$2.log" 2>&1 &
	echo $!
}

sw=$(underlay_add) || exit 1
declare -a HOSTS PODS
for n in 1 2 3; do
	read -r h p < <(host "$n" "$n")
	HOSTS[$n]=$h; PODS[$n]=$p
	pid=$(agent "$h" "h$n"); track_pid "$pid"
done
for n in 1 2 3; do
	wait_for 10 test -s "$T_TMP/h$n.log" && wait_for 10 grep -q ready "$T_TMP/h$n.log" ||
		{ echo "converge: h$n not ready"; cat "$T_TMP/h$n.log"; exit 1; }
done

# Every old pod pings the new pod until the first answer (an ICMP error
# from a host without the route yet ends one ping, so loop); the join time
# is when the last of them got one.  The 10 ms pause between tries keeps
# three spinning ping loops from starving the agent being measured of CPU on
# a 2-core machine (without it "ready" alone took ~200 ms instead of ~60).
reach() { # POD ADDRESS
	timeout 5 ip netns exec "$1" sh -c \
		"until ping -q -c 1 -W 0.05 $2 >/dev/null 2>&1; do sleep 0.01; done"
}
all_reach() {
	local n pids=()
	for n in 1 2 3; do
		reach "${PODS[$n]}" "$1" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n" || return 1; done
}
route_gone() {
	local n
	for n in 1 2 3; do ip -n "${HOSTS[$n]}" route show "$1" | grep -q . && return 1; done
	return 0
}

joins=() leaves=() readies=()
for round in $(seq 1 "$ROUNDS"); do
	n=$((10 + round)) o=$((100 + round))
	read -r h p < <(host "$n" "$o")
	t0=$(now_ms)
	pid=$(agent "$h" "h$n"); track_pid "$pid"
	all_reach "10.244.$o.2" || { echo "converge: round $round: not reachable"; cat "$T_TMP/h$n.log"; exit 1; }
	joins+=($(( $(now_ms) - t0 )))
	# subnet.env is the agent's last start-up step: its mtime is "ready".
	readies+=($(( $(stat -c %.3Y "$T_TMP/h$n.env" | tr -d .) - t0 )))
	t0=$(now_ms)
	kill -TERM "$pid"
	wait_for 5 route_gone "10.244.$o.0/24" || { echo "converge: round $round: route stays"; exit 1; }
	leaves+=($(( $(now_ms) - t0 )))
	wait "$pid" 2>/dev/null
	ip netns del "$h"; ip netns del "$p"
done

# The bare steps: what the agent automates, typed as iproute2 commands on
# the new host and on each old one (no store, no lease, no discovery).
bare=()
for round in $(seq 1 "$ROUNDS"); do
	n=$((30 + round)) o=$((150 + round))
	read -r h p < <(host "$n" "$o")
	t0=$(now_ms)
	ip -n "$h" link add flannel.1 type vxlan id 1 local "192.168.77.$n" dev eth0 dstport 8472 nolearning
	ip -n "$h" addr add "10.244.$o.0/32" dev flannel.1
	ip -n "$h" link set flannel.1 up
	mac=$(ip -n "$h" -br link show flannel.1 | awk '{print $3}')
	for m in 1 2 3; do
		rmac=$(ip -n "${HOSTS[$m]}" -br link show flannel.1 | awk '{print $3}')
		ip -n "$h" neigh replace "10.244.$m.0" lladdr "$rmac" dev flannel.1 nud permanent
		bridge -n "$h" fdb replace "$rmac" dev flannel.1 dst "192.168.77.$m" self permanent
		ip -n "$h" route replace "10.244.$m.0/24" via "10.244.$m.0" dev flannel.1 onlink
		ip -n "${HOSTS[$m]}" neigh replace "10.244.$o.0" lladdr "$mac" dev flannel.1 nud permanent
		bridge -n "${HOSTS[$m]}" fdb replace "$mac" dev flannel.1 dst "192.168.77.$n" self permanent
		ip -n "${HOSTS[$m]}" route replace "10.244.$o.0/24" via "10.244.$o.0" dev flannel.1 onlink
	done
	all_reach "10.244.$o.2" || { echo "converge: bare round $round: not reachable"; exit 1; }
	bare+=($(( $(now_ms) - t0 )))
	for m in 1 2 3; do
		ip -n "${HOSTS[$m]}" route del "10.244.$o.0/24"
		ip -n "${HOSTS[$m]}" neigh del "10.244.$o.0" dev flannel.1
		bridge -n "${HOSTS[$m]}" fdb del "$mac" dev flannel.1 dst "192.168.77.$n" self
	done
	ip netns del "$h"; ip netns del "$p"
done

echo "join  (agent start -> 3 pods reach the new pod), ms: ${joins[*]}"
echo "ready (agent start -> subnet.env written), ms: ${readies[*]}"
echo "leave (SIGTERM --teardown -> route gone on 3 hosts), ms: ${leaves[*]}"
echo "bare  (iproute2 setup by hand -> 3 pods reach it), ms: ${bare[*]}"
j=$(median "${joins[@]}") l=$(median "${leaves[@]}") b=$(median "${bare[@]}") r=$(median "${readies[@]}")
echo "median of $ROUNDS: join $j ms (goal < 250; agent ready after $r ms), leave $l ms, bare setup steps $b ms"
[ "$j" -lt 250 ]
