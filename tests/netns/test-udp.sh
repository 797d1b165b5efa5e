#!/bin/bash
# test-udp.sh - the UDP backend: `ovlctl udp run` on two, then three hosts
# of a bridge underlay, a pod behind each.  Pods reach each other through
# flannel0; MTU-sized DF pings pass and bigger ones get frag-needed; a
# subnet nobody owns gives "Destination Net Unreachable", an expiring TTL
# "Time to live exceeded"; the underlay carries the bare inner IP packet in
# UDP port 8285 (flannel's wire format); peers follow the file on SIGHUP;
# a restarted loop (also flannel's one-packet mode) carries traffic again;
# SIGTERM removes the device.
source "$(dirname "$0")/lib.sh"

SW=$(underlay_add)
declare -A H P PID
for n in 1 2 3; do
	H[$n]=$(host_add "$SW" "h$n" "192.168.88.1$n/24")
	# Pod 1 has a bigger MTU than flannel0 (1472), so its host's kernel
	# answers an oversized DF packet with frag-needed.
	P[$n]=$(pod_add "${H[$n]}" "p$n" "10.245.$n.2/24" "10.245.$n.1" "$([ "$n" = 1 ] && echo 1500 || echo 1472)")
done

PEERS_NET=10.245 PEERS_UNDERLAY=192.168.88
# start N [ARGS...]: the loop on host N in the background (not inside
# $(...) or check: PID must survive).
start() {
	local n=$1; shift
	ovlctl_bg "${H[$n]}" "$T_TMP/udp-$n.log" udp run --local "192.168.88.1$n" \
		--subnet "10.245.$n.0/24" --network 10.245.0.0/16 --peers "$T_TMP/peers-$n.json" "$@"
	PID[$n]=$BG_PID
}
# up N: host N's loop has its device and route.
up() {
	wait_for 5 bash -c "ip -n ${H[$1]} route show 10.245.0.0/16 dev flannel0 | grep -q ." ||
		{ cat "$T_TMP/udp-$1.log"; return 1; }
}
stop() {
	kill -TERM "${PID[$1]}" 2>/dev/null
	wait "${PID[$1]}"
}
ping_ok() { ip netns exec "${P[$1]}" ping -c 1 -W 2 "$2"; }
# stats N FIELD: a counter of host N's loop (SIGUSR1 prints them).
stats() {
	local log="$T_TMP/udp-$1.log" before
	before=$(grep -c '^stats ' "$log")
	kill -USR1 "${PID[$1]}"
	wait_for 3 bash -c "[ \$(grep -c '^stats ' '$log') -gt $before ]" || return 1
	grep '^stats ' "$log" | tail -1 | sed 's/^stats //' | jq -r ".$2"
}

# ---- two hosts ----
peers_file 1 2 >/dev/null
peers_file 2 1 >/dev/null
start 1
start 2
check "h1: udp run" up 1
check "h2: udp run" up 2
check "flannel0: a tun device, MTU 1472, 10.245.1.0/32, up" bash -c "
	ip -n ${H[1]} -j -d link show flannel0 | jq -e '.[0] | .mtu == 1472 and .linkinfo.info_kind == \"tun\"
		and (.flags | index(\"UP\"))' &&
	ip -n ${H[1]} -j -4 addr show flannel0 | jq -e '[.[0].addr_info[] | .local + \"/\" + (.prefixlen|tostring)] == [\"10.245.1.0/32\"]'"
check "h1: route 10.245.0.0/16 dev flannel0" bash -c "
	ip -n ${H[1]} -j route show 10.245.0.0/16 | jq -e '.[0].dev == \"flannel0\"'"
check "h1: UDP socket bound to 192.168.88.11:8285" bash -c "
	ip netns exec ${H[1]} ss -uln | grep -q '192.168.88.11:8285'"
check "2 hosts: pod 1 -> pod 2" ping_ok 1 10.245.2.2
check "2 hosts: pod 2 -> pod 1" ping_ok 2 10.245.1.2
check "pod 1 -> h2's flannel0 address" ping_ok 1 10.245.2.0
check "DF ping of 1444 bytes (1472 with headers) crosses" \
	ip netns exec "${P[1]}" ping -c 1 -W 2 -M do -s 1444 10.245.2.2
check "DF ping of 1445 bytes gets frag-needed (mtu 1472)" bash -c "
	out=\$(ip netns exec ${P[1]} ping -c 2 -i 0.3 -W 1 -M do -s 1445 10.245.2.2 2>&1); echo \"\$out\"
	echo \"\$out\" | grep -Eq 'Frag needed and DF set \\(mtu = 1472\\)|mtu=1472|mtu = 1472'"
check "an unowned subnet in the network: Destination Net Unreachable from 10.245.1.0" bash -c "
	out=\$(ip netns exec ${P[1]} ping -c 1 -W 2 10.245.9.2 2>&1); echo \"\$out\"
	echo \"\$out\" | grep -q 'From 10.245.1.0.*Destination Net Unreachable'"
# The pod's TTL 2 becomes 1 in h1's kernel, so the loop sees TTL 1.
check "TTL expiring in the loop: Time to live exceeded from 10.245.1.0" bash -c "
	out=\$(ip netns exec ${P[1]} ping -c 1 -W 2 -t 2 10.245.2.2 2>&1); echo \"\$out\"
	echo \"\$out\" | grep -q 'From 10.245.1.0.*Time to live exceeded'"
counted() {
	[ "$(stats 1 drop_no_route)" -ge 1 ] && [ "$(stats 1 drop_ttl)" -ge 1 ] &&
	[ "$(stats 1 packets_out)" -ge 4 ] && [ "$(stats 1 packets_in)" -ge 3 ]
}
check "h1 counts packets and the no-route and TTL drops" counted

# flannel's wire format: the payload is the inner packet, nothing before it.
check "underlay: UDP 8285 carries the bare inner IP packet" bash -c "
	ip netns exec ${H[2]} timeout 5 tcpdump -nn -U -c 1 -i eth0 -w $T_TMP/wire.pcap \
		'udp dst port 8285 and src host 192.168.88.11' 2>/dev/null & dump=\$!
	sleep 0.5
	ip netns exec ${P[1]} ping -c 2 -i 0.2 -s 56 -W 1 10.245.2.2 >/dev/null
	wait \$dump
	out=\$(tcpdump -nn -x -r $T_TMP/wire.pcap 2>/dev/null); echo \"\$out\"
	hex=\$(echo \"\$out\" | grep '0x' | sed 's/^.*0x[0-9a-f]*: *//' | tr -d ' \n')
	echo \"\$out\" | grep -q '192.168.88.11.8285 > 192.168.88.12.8285: UDP, length 84' &&
	[ \"\${hex:56:4}\" = 4500 ] && [ \"\${hex:80:16}\" = 0af501020af50202 ]"

# ---- a third host joins; peers follow the file on SIGHUP ----
peers_file 3 1 2 3 >/dev/null
start 3
check "h3: udp run" up 3
check_fails "pod 1 -> pod 3 fails while h1 does not know h3" ping_ok 1 10.245.3.2
peers_file 1 1 2 3 >/dev/null
peers_file 2 1 2 3 >/dev/null
kill -HUP "${PID[1]}" "${PID[2]}"
mesh() {
	local a b
	wait_for 5 ping_ok 1 10.245.3.2 || return 1
	for a in 1 2 3; do
		for b in 1 2 3; do
			[ "$a" = "$b" ] && continue
			ping_ok "$a" "10.245.$b.2" || { echo "pod $a -> pod $b failed"; return 1; }
		done
	done
}
check "3 hosts after SIGHUP: every pod reaches every pod" mesh
peers_file 1 1 2 >/dev/null
kill -HUP "${PID[1]}"
sleep 0.5
check_fails "churn: h3 dropped from h1's file, pod 1 -> pod 3 fails" ping_ok 1 10.245.3.2
check_fails "...and pod 3 -> pod 1 too (h1 drops h3's packets)" ping_ok 3 10.245.1.2
unknown_counted() { [ "$(stats 1 drop_unknown_source)" -ge 1 ]; }
check "...counted as from an unknown source" unknown_counted
check "pod 1 -> pod 2 still works" ping_ok 1 10.245.2.2
peers_file 1 1 2 3 >/dev/null
kill -HUP "${PID[1]}"
check "h3 back in the file: pod 1 -> pod 3 works again" wait_for 5 ping_ok 1 10.245.3.2

# ---- restart, and flannel's one-packet-per-call mode ----
stop 2; rc=$?
check "h2: SIGTERM ends the loop with status 0" test "$rc" = 0
check "h2: flannel0 and its route are gone" bash -c "
	! ip -n ${H[2]} link show flannel0 2>/dev/null && [ -z \"\$(ip -n ${H[2]} route show 10.245.0.0/16)\" ]"
check_fails "pod 1 -> pod 2 fails while h2 is down" ping_ok 1 10.245.2.2
start 2 --simple
check "h2: udp run again (--simple: one packet per system call)" up 2
both_ways() { wait_for 5 ping_ok 1 10.245.2.2 && ping_ok 2 10.245.1.2; }
check "after the restart: pod 1 -> pod 2 and back" both_ways
check "simple mode: DF ping of 1444 bytes crosses" \
	ip netns exec "${P[2]}" ping -c 1 -W 2 -M do -s 1444 10.245.1.2
check "TCP across (iperf3, 1 s) with batching and offloads on h1, simple on h2" bash -c "
	ip netns exec ${P[1]} iperf3 -s -1 -D -p 5201 --logfile $T_TMP/iperf-s.log && sleep 0.3 &&
	ip netns exec ${P[2]} timeout 10 iperf3 -c 10.245.1.2 -p 5201 -t 1 -J > $T_TMP/iperf.json &&
	jq -e '.end.sum_received.bytes > 100000' $T_TMP/iperf.json"

check_fails "a second loop on the same device is refused" \
	ip netns exec "${H[1]}" "$OVLCTL" udp run --local 192.168.88.11 --subnet 10.245.1.0/24 \
	--network 10.245.0.0/16 --port 8286
check_fails "udp run without --network is refused" \
	ip netns exec "${H[1]}" "$OVLCTL" udp run --local 192.168.88.11 --subnet 10.245.1.0/24
for n in 1 2 3; do
	stop "$n"; rc=$?
	check "h$n: SIGTERM, status 0" test "$rc" = 0
done
check "no flannel0 left anywhere" bash -c "
	for h in ${H[1]} ${H[2]} ${H[3]}; do ! ip -n \$h link show flannel0 2>/dev/null || exit 1; done"

t_finish
