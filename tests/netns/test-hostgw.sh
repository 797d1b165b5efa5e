#!/bin/bash
# test-hostgw.sh - host-gw: three hosts on one bridge underlay, a pod behind
# each; `ovlctl hostgw up` and `ovlctl peer ... --link host-gw:eth0` make the
# pods reach each other by plain routes via the peers' underlay addresses,
# with no device and no encapsulation; IPv6 next to IPv4 on the same eth0;
# NAT and off-link peers refused; every call twice leaves the same routes;
# sync and down touch only libovl's routes.
source "$(dirname "$0")/lib.sh"

SW=$(underlay_add)
declare -A H P
for n in 1 2 3; do
	H[$n]=$(host_add "$SW" "h$n" "192.168.78.1$n/24")
	ip -n "${H[$n]}" addr add "fd78::1$n/64" dev eth0 nodad
	P[$n]=$(pod_add "${H[$n]}" "p$n" "10.244.$n.2/24" "10.244.$n.1" 1500)
	ip -n "${H[$n]}" addr add "fd44:$n::1/64" dev cni0 nodad
	ip -n "${P[$n]}" addr add "fd44:$n::2/64" dev eth0 nodad
	ip -n "${P[$n]}" -6 route add default via "fd44:$n::1"
done
LINK=host-gw:eth0
LINK6=host-gw-v6:eth0

up() { ovlctl_in "${H[$1]}" hostgw up --local "192.168.78.1$1" --subnet "10.244.$1.0/24" \
	--network 10.244.0.0/16 --dev eth0; }
for n in 1 2 3; do check "h$n: hostgw up" up "$n"; done
check "hostgw up without --dev finds eth0; JSON: backend, name, MTU = underlay MTU" bash -c "
	ip netns exec ${H[1]} '$OVLCTL' --json hostgw up --local 192.168.78.11 --subnet 10.244.1.0/24 |
		jq -e '.backend == \"host-gw\" and .name == \"$LINK\" and .dev == \"eth0\" and .mtu == 1500
			and .local == \"192.168.78.11\" and .subnet == \"10.244.1.0/24\"'"
check "hostgw up creates no device (no vxlan, nothing new)" bash -c "
	[ -z \"\$(ip -n ${H[1]} -d link show type vxlan)\" ] &&
	[ \"\$(ip -n ${H[1]} -j link show | jq -c '[.[].ifname] | sort')\" = '[\"cni0\",\"eth0\",\"lo\",\"vp1\"]' ]"

# h1 learns its peers one by one, h2 and h3 by sync.
PEERS_NET=10.244 PEERS_UNDERLAY=192.168.78
for m in 2 3; do
	check "h1: peer add 10.244.$m.0/24" ovlctl_in "${H[1]}" peer add --link "$LINK" \
		--subnet "10.244.$m.0/24" --public-ip "192.168.78.1$m"
done
for n in 2 3; do
	check "h$n: peer sync" ovlctl_in "${H[$n]}" peer sync --link "$LINK" "$(peers_file "$n" 1 2 3)"
done

check "h1: route 10.244.2.0/24 via 192.168.78.12 dev eth0, libovl's protocol, no onlink" bash -c "
	ip -n ${H[1]} -j route show 10.244.2.0/24 | jq -e 'length == 1 and (.[0] | .gateway == \"192.168.78.12\"
		and .dev == \"eth0\" and .protocol != \"kernel\" and .protocol != \"boot\" and
		((.flags // []) | index(\"onlink\") | not))'"
check "h1: peer list shows both peers with their underlay addresses" bash -c "
	ip netns exec ${H[1]} '$OVLCTL' --json peer list --link $LINK | jq -e 'map({subnet, public_ip}) ==
		[{\"subnet\":\"10.244.2.0/24\",\"public_ip\":\"192.168.78.12\"},
		 {\"subnet\":\"10.244.3.0/24\",\"public_ip\":\"192.168.78.13\"}]'"
check "h1: no nexthop objects and no permanent neighbours (routes only)" bash -c "
	[ \"\$(ip -n ${H[1]} -j nexthop show | jq length)\" = 0 ] &&
	! ip -n ${H[1]} neigh show nud permanent | grep -q ."

for a in 1 2 3; do
	for b in 1 2 3; do
		[ "$a" = "$b" ] && continue
		check "pod $a -> pod $b by host-gw routes" ip netns exec "${P[$a]}" ping -c 1 -W 2 "10.244.$b.2"
	done
done
check "DF ping of 1472 bytes (pod MTU 1500 = underlay MTU) crosses" \
	ip netns exec "${P[1]}" ping -c 1 -W 2 -M do -s 1472 10.244.2.2

# On the wire: ICMP between the pod addresses, nothing on UDP 8472.
ip netns exec "${H[2]}" tcpdump -i eth0 -n -U --immediate-mode -w "$T_TMP/wire.pcap" 'icmp or udp' \
	>/dev/null 2>&1 &
TCPDUMP=$!
track_pid "$TCPDUMP"
wait_for 5 test -s "$T_TMP/wire.pcap"
sleep 0.3
ip netns exec "${P[1]}" ping -c 3 -i 0.2 -W 2 10.244.2.2 >/dev/null
sleep 0.3
kill "$TCPDUMP"; wait "$TCPDUMP" 2>/dev/null
check "underlay carries ICMP 10.244.1.2 -> 10.244.2.2 unencapsulated" bash -c "
	tcpdump -n -r $T_TMP/wire.pcap 'icmp and src 10.244.1.2 and dst 10.244.2.2' 2>/dev/null | grep -c . | grep -qx 3"
check "underlay carries no UDP 8472 (no VXLAN)" bash -c "
	[ \"\$(tcpdump -n -r $T_TMP/wire.pcap 'udp port 8472' 2>/dev/null | grep -c .)\" = 0 ]"

# Idempotency: every call again, the routes byte for byte the same.
routes() { ip -n "$1" -j route show; ip -n "$1" -j -6 route show; }
for n in 1 2; do routes "${H[$n]}" >"$T_TMP/before-$n"; done
check "h1: hostgw up again" up 1
check "h1: peer add again" ovlctl_in "${H[1]}" peer add --link "$LINK" --subnet 10.244.2.0/24 \
	--public-ip 192.168.78.12
check "h2: hostgw up again" up 2
check "h2: peer sync again" ovlctl_in "${H[2]}" peer sync --link "$LINK" "$T_TMP/peers-2.json"
for n in 1 2; do
	routes "${H[$n]}" >"$T_TMP/after-$n"
	check "h$n: ip -j route identical after repeating every call" diff "$T_TMP/before-$n" "$T_TMP/after-$n"
done

# A moved peer: the route follows its new underlay address.
check "h1: peer add 10.244.3.0/24 at a new address replaces the route" bash -c "
	ip netns exec ${H[1]} '$OVLCTL' peer add --link $LINK --subnet 10.244.3.0/24 --public-ip 192.168.78.23 &&
	[ \"\$(ip -n ${H[1]} -j route show 10.244.3.0/24 | jq -r 'map(.gateway) | join(\",\")')\" = 192.168.78.23 ] &&
	ip netns exec ${H[1]} '$OVLCTL' peer add --link $LINK --subnet 10.244.3.0/24 --public-ip 192.168.78.13"

# peer del breaks the path.
check "h1: peer del 10.244.3.0/24" ovlctl_in "${H[1]}" peer del --link "$LINK" --subnet 10.244.3.0/24
check "h1: peer del again succeeds" ovlctl_in "${H[1]}" peer del --link "$LINK" --subnet 10.244.3.0/24
check "h1: no route left for 10.244.3.0/24" bash -c "[ -z \"\$(ip -n ${H[1]} route show 10.244.3.0/24)\" ]"
check_fails "pod 1 -> pod 3 fails without the peer" ip netns exec "${P[1]}" ping -c 1 -W 1 10.244.3.2
check "pod 1 -> pod 2 still works" ip netns exec "${P[1]}" ping -c 1 -W 2 10.244.2.2

# Sync removes stale libovl routes and keeps foreign ones.
ip -n "${H[1]}" route add 10.244.9.0/24 via 192.168.78.13 dev eth0
ip -n "${H[1]}" route add 10.99.0.0/24 via 192.168.78.13 dev eth0 proto static
check "h1: a stale peer 10.244.8.0/24 (added, then forgotten)" ovlctl_in "${H[1]}" peer add \
	--link "$LINK" --subnet 10.244.8.0/24 --public-ip 192.168.78.13
check "h1: peer sync" ovlctl_in "${H[1]}" peer sync --link "$LINK" "$(peers_file 1 1 2 3)"
check "h1: stale route gone, peers there, foreign routes kept" bash -c "
	[ -z \"\$(ip -n ${H[1]} route show 10.244.8.0/24)\" ] &&
	ip -n ${H[1]} route show 10.244.3.0/24 | grep -q 'via 192.168.78.13 dev eth0' &&
	ip -n ${H[1]} route show 10.244.2.0/24 | grep -q 'via 192.168.78.12 dev eth0' &&
	ip -n ${H[1]} -j route show 10.244.9.0/24 | jq -e '.[0].gateway == \"192.168.78.13\" and (.[0].protocol // \"boot\") == \"boot\"' &&
	ip -n ${H[1]} route show 10.99.0.0/24 | grep -q 'proto static'"
check "pod 1 -> pod 3 works again after sync" ip netns exec "${P[1]}" ping -c 1 -W 2 10.244.3.2

# NAT: the advertised address must be one of the interface's.
ip -n "${H[1]}" addr add 10.0.0.1/32 dev lo
check "hostgw up refuses an address that is not on the interface (NAT), in flannel's words" bash -c "
	out=\$(ip netns exec ${H[1]} '$OVLCTL' hostgw up --local 10.0.0.1 --dev eth0 --subnet 10.244.1.0/24 2>&1); rc=\$?
	echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q '10.0.0.1 is not an address of eth0' &&
	echo \"\$out\" | grep -q \"probably you're on a NAT, which is not supported by host-gw backend\""
check "hostgw up refuses an address no device holds" bash -c "
	out=\$(ip netns exec ${H[1]} '$OVLCTL' hostgw up --local 203.0.113.7 --subnet 10.244.1.0/24 2>&1); rc=\$?
	echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q 'on a NAT'"
check "hostgw up refuses an IPv6 local with an IPv4 subnet" bash -c "
	out=\$(ip netns exec ${H[1]} '$OVLCTL' hostgw up --local fd78::11 --subnet 10.244.1.0/24 2>&1); rc=\$?
	echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q 'subnet 10.244.1.0/24 is IPv4'"

# Off-link peers: reported, not installed.
routes "${H[1]}" >"$T_TMP/before-offlink"
check "peer add of an off-link peer fails naming the peer and why" bash -c "
	out=\$(ip netns exec ${H[1]} '$OVLCTL' peer add --link $LINK --subnet 10.244.5.0/24 \
		--public-ip 172.16.5.5 2>&1); rc=\$?
	echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q '10.244.5.0/24' &&
	echo \"\$out\" | grep -q '172.16.5.5 is not on-link' && echo \"\$out\" | grep -q 'cannot work'"
check "peer sync with an off-link peer fails and changes nothing" bash -c "
	echo '[{\"subnet\":\"10.244.5.0/24\",\"public_ip\":\"172.16.5.5\"}]' > $T_TMP/offlink.json
	! ip netns exec ${H[1]} '$OVLCTL' peer sync --link $LINK $T_TMP/offlink.json"
routes "${H[1]}" >"$T_TMP/after-offlink"
check "...no route was installed or removed" diff "$T_TMP/before-offlink" "$T_TMP/after-offlink"
check_fails "peer add of our own subnet is refused (cni0 holds 10.244.1.1)" ip netns exec "${H[1]}" "$OVLCTL" peer add \
	--link "$LINK" --subnet 10.244.1.0/24 --public-ip 192.168.78.12
check_fails "hostgw show of a missing device fails" ip netns exec "${H[1]}" "$OVLCTL" hostgw show \
	--link host-gw:nosuchdev

# IPv6 next to IPv4 on the same eth0.
for n in 1 2; do
	check "h$n: hostgw up IPv6" ovlctl_in "${H[$n]}" hostgw up --local "fd78::1$n" \
		--subnet "fd44:$n::/64" --network fd44::/16
done
check "h1: peer add v6" ovlctl_in "${H[1]}" peer add --link "$LINK6" --subnet fd44:2::/64 --public-ip fd78::12
printf '[{"subnet":"fd44:1::/64","public_ip":"fd78::11"}]\n' >"$T_TMP/v6-2.json"
check "h2: peer sync v6" ovlctl_in "${H[2]}" peer sync --link "$LINK6" "$T_TMP/v6-2.json"
check "h1: route fd44:2::/64 via fd78::12 dev eth0" bash -c "
	ip -n ${H[1]} -6 route show fd44:2::/64 | grep -q 'via fd78::12 dev eth0'"
check "pod 1 -> pod 2 over IPv6 host-gw" ip netns exec "${P[1]}" ping -6 -c 1 -W 2 fd44:2::2
check "pod 2 -> pod 1 over IPv6 host-gw" ip netns exec "${P[2]}" ping -6 -c 1 -W 2 fd44:1::2
check "h1: the IPv6 link lists only its own peer; IPv4 routes untouched by v6 sync" bash -c "
	ip netns exec ${H[1]} '$OVLCTL' --json peer list --link $LINK6 |
		jq -e 'map({subnet, public_ip}) == [{\"subnet\":\"fd44:2::/64\",\"public_ip\":\"fd78::12\"}]' &&
	ip -n ${H[2]} route show 10.244.1.0/24 | grep -q 'via 192.168.78.11'"

# Down removes libovl's routes of that family, nothing else.
check "h1: hostgw down" ovlctl_in "${H[1]}" hostgw down --link "$LINK"
check "h1: IPv4 peer routes gone, foreign routes and IPv6 peers kept" bash -c "
	[ -z \"\$(ip -n ${H[1]} route show 10.244.2.0/24)\" ] && [ -z \"\$(ip -n ${H[1]} route show 10.244.3.0/24)\" ] &&
	ip -n ${H[1]} route show 10.244.9.0/24 | grep -q via &&
	ip -n ${H[1]} -6 route show fd44:2::/64 | grep -q 'via fd78::12'"
check "h1: hostgw down again succeeds" ovlctl_in "${H[1]}" hostgw down --link "$LINK"
check "h1: hostgw down IPv6" ovlctl_in "${H[1]}" hostgw down --link "$LINK6"
check "h1: no IPv6 peer route left" bash -c "[ -z \"\$(ip -n ${H[1]} -6 route show fd44:2::/64)\" ]"
check_fails "pod 1 -> pod 2 fails once h1's link is down" ip netns exec "${P[1]}" ping -c 1 -W 1 10.244.2.2

t_finish
