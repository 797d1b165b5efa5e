#!/bin/bash
# test-vxlan.sh - three hosts on a bridge underlay, a pod behind each:
# `ovlctl vxlan up` and `ovlctl peer add|sync` make the pods reach each other
# through flannel.1 only; every call twice leaves the same kernel state;
# removing a peer stops the traffic; `vxlan down` removes everything.
source "$(dirname "$0")/lib.sh"

SW=$(underlay_add)
declare -A H P MAC
for n in 1 2 3; do
	H[$n]=$(host_add "$SW" "h$n" "192.168.77.1$n/24")
	P[$n]=$(pod_add "${H[$n]}" "p$n" "10.244.$n.2/24" "10.244.$n.1")
done

up() { ovlctl_in "${H[$1]}" vxlan up --local "192.168.77.1$1" --subnet "10.244.$1.0/24" --network 10.244.0.0/16; }
for n in 1 2 3; do
	check "h$n: vxlan up" up "$n"
	MAC[$n]=$(ovlctl_in "${H[$n]}" --json vxlan show | jq -r .mac)
done

check "flannel.1: vxlan id 1 port 8472 nolearning, MTU 1450, 10.244.1.0/32" bash -c "
	ip -n ${H[1]} -j -d link show flannel.1 | jq -e '.[0] | .mtu == 1450 and .linkinfo.info_data.id == 1
		and .linkinfo.info_data.port == 8472 and .linkinfo.info_data.learning == false
		and .linkinfo.info_data.local == \"192.168.77.11\" and .linkinfo.info_data.link == \"eth0\"' &&
	ip -n ${H[1]} -j -4 addr show flannel.1 | jq -e '[.[0].addr_info[] | .local + \"/\" + (.prefixlen|tostring)] == [\"10.244.1.0/32\"]' &&
	ip -n ${H[1]} -j link show flannel.1 | jq -e '.[0].flags | index(\"UP\")'"
check "vxlan show reports the MAC the kernel has" bash -c \
	"[ '${MAC[1]}' = \"\$(ip -n ${H[1]} -j link show flannel.1 | jq -r '.[0].address')\" ]"

# h1 learns its peers one by one (one process each), h2 and h3 by sync.
PEERS_NET=10.244 PEERS_UNDERLAY=192.168.77
for m in 2 3; do
	check "h1: peer add 10.244.$m.0/24" ovlctl_in "${H[1]}" peer add --subnet "10.244.$m.0/24" \
		--public-ip "192.168.77.1$m" --mac "${MAC[$m]}"
done
for n in 2 3; do
	check "h$n: peer sync" ovlctl_in "${H[$n]}" peer sync "$(peers_file "$n" 1 2 3)"
done

check "h1: neighbour 10.244.2.0 -> h2's MAC, permanent" bash -c "
	ip -n ${H[1]} -j neigh show dev flannel.1 | jq -e '.[] | select(.dst == \"10.244.2.0\")
		| .lladdr == \"${MAC[2]}\" and (.state | index(\"PERMANENT\"))'"
check "h1: fdb h2's MAC -> 192.168.77.12, self permanent" bash -c "
	bridge -n ${H[1]} -j fdb show dev flannel.1 | jq -e '.[] | select(.mac == \"${MAC[2]}\")
		| .dst == \"192.168.77.12\" and .state == \"permanent\" and (.flags | index(\"self\"))'"
check "h1: route 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink" bash -c "
	ip -n ${H[1]} -j route show 10.244.3.0/24 | jq -e '.[0] | .gateway == \"10.244.3.0\"
		and .dev == \"flannel.1\" and (.flags | index(\"onlink\"))'"
check "h1: peer list shows both peers" bash -c "
	ovlctl_in() { ip netns exec \"\$1\" '$OVLCTL' \"\${@:2}\"; }
	ovlctl_in ${H[1]} --json peer list | jq -e 'length == 2 and
		(map(select(.subnet == \"10.244.2.0/24\"))[0] | .public_ip == \"192.168.77.12\" and .mac == \"${MAC[2]}\")'"

for a in 1 2 3; do
	for b in 1 2 3; do
		[ "$a" = "$b" ] && continue
		check "pod $a -> pod $b over the overlay" ip netns exec "${P[$a]}" ping -c 1 -W 2 "10.244.$b.2"
	done
done
check "DF ping of 1422 bytes (pod MTU 1450) crosses" \
	ip netns exec "${P[1]}" ping -c 1 -W 2 -M do -s 1422 10.244.2.2
check "pod 1 -> h3's flannel.1 address" ip netns exec "${P[1]}" ping -c 1 -W 2 10.244.3.0

# Idempotency: every call again, the kernel state byte for byte the same
# (but for address lifetimes and DAD finishing: the kernel's own clock).
state() {
	local ns=$1
	ip -n "$ns" -j -d link show flannel.1 | jq -c '.[0] | del(.stats64, .stats)'
	ip -n "$ns" -j addr show flannel.1 | jq -c '.[0].addr_info | map(del(.valid_life_time, .preferred_life_time, .tentative))'
	ip -n "$ns" -j route show
	ip -n "$ns" -j nexthop show
	ip -n "$ns" -j neigh show dev flannel.1
	bridge -n "$ns" -j fdb show dev flannel.1
}
for n in 1 2; do state "${H[$n]}" >"$T_TMP/before-$n"; done
check "h1: vxlan up again" up 1
check "h1: peer add again" ovlctl_in "${H[1]}" peer add --subnet 10.244.2.0/24 \
	--public-ip 192.168.77.12 --mac "${MAC[2]}"
check "h2: vxlan up again" up 2
check "h2: peer sync again" ovlctl_in "${H[2]}" peer sync "$T_TMP/peers-2.json"
for n in 1 2; do
	state "${H[$n]}" >"$T_TMP/after-$n"
	check "h$n: state identical after repeating every call" diff "$T_TMP/before-$n" "$T_TMP/after-$n"
done
check "h1: the same MAC after vxlan up again" bash -c \
	"[ '${MAC[1]}' = \"\$(ip -n ${H[1]} -j link show flannel.1 | jq -r '.[0].address')\" ]"

# Breaking the overlay: without the peer on h1, pod 1 cannot reach pod 3.
check "h1: peer del 10.244.3.0/24" ovlctl_in "${H[1]}" peer del --subnet 10.244.3.0/24 \
	--public-ip 192.168.77.13 --mac "${MAC[3]}"
check "h1: peer del again succeeds" ovlctl_in "${H[1]}" peer del --subnet 10.244.3.0/24
check "h1: no route, nexthop, neighbour or fdb entry left for h3" bash -c "
	[ -z \"\$(ip -n ${H[1]} route show 10.244.3.0/24)\" ] &&
	! ip -n ${H[1]} -j neigh show dev flannel.1 | jq -e '.[] | select(.dst == \"10.244.3.0\")' &&
	! bridge -n ${H[1]} -j fdb show dev flannel.1 | jq -e '.[] | select(.mac == \"${MAC[3]}\")' &&
	[ \"\$(ip -n ${H[1]} -j nexthop show | jq length)\" = 1 ]"
check_fails "pod 1 -> pod 3 fails without the peer" ip netns exec "${P[1]}" ping -c 1 -W 1 10.244.3.2
check "pod 1 -> pod 2 still works" ip netns exec "${P[1]}" ping -c 1 -W 2 10.244.2.2
check "h1: peer add 10.244.3.0/24 back" ovlctl_in "${H[1]}" peer add --subnet 10.244.3.0/24 \
	--public-ip 192.168.77.13 --mac "${MAC[3]}"
check "pod 1 -> pod 3 works again" ip netns exec "${P[1]}" ping -c 1 -W 2 10.244.3.2

# The kernel's own errno and words come through.
check "peer add on a down device: the kernel's message" bash -c "
	ip -n ${H[3]} link set flannel.1 down
	out=\$(ip netns exec ${H[3]} '$OVLCTL' peer add --subnet 10.244.1.0/24 --public-ip 192.168.77.11 \
		--mac ${MAC[1]} 2>&1); rc=\$?
	ip -n ${H[3]} link set flannel.1 up
	echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q 'Nexthop device is not up'"
check "...and left no neighbour or fdb entry behind" bash -c "
	! ip -n ${H[3]} -j neigh show dev flannel.1 | jq -e '.[] | select(.dst == \"10.244.1.0\")' &&
	! bridge -n ${H[3]} -j fdb show dev flannel.1 | jq -e '.[] | select(.mac == \"${MAC[1]}\")'"

# --netns: a process in h2 programs h3 (the socket is opened in h3).
check "ovlctl --netns: vxlan up in another namespace" \
	ip netns exec "${H[2]}" "$OVLCTL" --netns "${H[3]}" vxlan up --local 192.168.77.13 \
	--subnet 10.244.3.0/24 --network 10.244.0.0/16 --name flannel.7 --vni 7
check "...the device is in that namespace only" bash -c "
	ip -n ${H[3]} link show flannel.7 && ! ip -n ${H[2]} link show flannel.7 2>/dev/null"
check "ovlctl --netns: vxlan down" \
	ip netns exec "${H[2]}" "$OVLCTL" --netns "${H[3]}" vxlan down --name flannel.7

check "h3: vxlan down" ovlctl_in "${H[3]}" vxlan down
check "h3: flannel.1 is gone" bash -c "! ip -n ${H[3]} link show flannel.1 2>/dev/null"
check "h3: vxlan down again succeeds" ovlctl_in "${H[3]}" vxlan down
check_fails "pod 1 -> pod 3 fails once h3's device is gone" ip netns exec "${P[1]}" ping -c 1 -W 1 10.244.3.2

t_finish
