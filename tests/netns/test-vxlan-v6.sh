#!/bin/bash
# test-vxlan-v6.sh - IPv6: flannel-v6.1 over an IPv6 underlay, next to
# flannel.1 over IPv4 (dual stack); pods on two hosts ping each other over
# both, and sync restores both after a flap.
source "$(dirname "$0")/lib.sh"

SW=$(underlay_add)
declare -A H P MAC MAC6
for n in 1 2; do
	H[$n]=$(host_add "$SW" "h$n" "192.168.77.1$n/24")
	ip -n "${H[$n]}" addr add "fd77::1$n/64" dev eth0 nodad
	P[$n]=$(pod_add "${H[$n]}" "p$n" "10.244.$n.2/24" "10.244.$n.1")
	ip -n "${H[$n]}" addr add "fd44:$n::1/64" dev cni0 nodad
	ip -n "${P[$n]}" addr add "fd44:$n::2/64" dev eth0 nodad
	ip -n "${P[$n]}" -6 route add default via "fd44:$n::1"
done

for n in 1 2; do
	check "h$n: flannel-v6.1 up over the IPv6 underlay" ovlctl_in "${H[$n]}" vxlan up \
		--local "fd77::1$n" --subnet "fd44:$n::/64" --network fd44::/16
	check "h$n: flannel.1 up over the IPv4 underlay" ovlctl_in "${H[$n]}" vxlan up \
		--local "192.168.77.1$n" --subnet "10.244.$n.0/24" --network 10.244.0.0/16
	MAC6[$n]=$(ovlctl_in "${H[$n]}" --json vxlan show --name flannel-v6.1 | jq -r .mac)
	MAC[$n]=$(ovlctl_in "${H[$n]}" --json vxlan show | jq -r .mac)
done
check "flannel-v6.1: local fd77::11, MTU 1430 (IPv6 underlay), fd44:1::/128, accept_ra 0" bash -c "
	ip -n ${H[1]} -j -d link show flannel-v6.1 | jq -e '.[0] | .mtu == 1430 and
		(.linkinfo.info_data.local6 // .linkinfo.info_data.local) == \"fd77::11\" and .linkinfo.info_data.port == 8472' &&
	ip -n ${H[1]} -j -6 addr show flannel-v6.1 | jq -e '.[0].addr_info | map(select(.scope == \"global\")) |
		map(.local + \"/\" + (.prefixlen|tostring)) == [\"fd44:1::/128\"]' &&
	[ \"\$(ip netns exec ${H[1]} cat /proc/sys/net/ipv6/conf/flannel-v6.1/accept_ra)\" = 0 ]"

check "h1: flannel-v6.1 up again reuses it" bash -c "
	before=\$(ip -n ${H[1]} -j -d link show flannel-v6.1 | jq -c '.[0] | del(.stats64)')
	ip netns exec ${H[1]} '$OVLCTL' vxlan up --local fd77::11 --subnet fd44:1::/64 --network fd44::/16 &&
	[ \"\$before\" = \"\$(ip -n ${H[1]} -j -d link show flannel-v6.1 | jq -c '.[0] | del(.stats64)')\" ]"

for pair in "1 2" "2 1"; do
	set -- $pair
	check "h$1: peer add v6 fd44:$2::/64" ovlctl_in "${H[$1]}" peer add --link flannel-v6.1 \
		--subnet "fd44:$2::/64" --public-ip "fd77::1$2" --mac "${MAC6[$2]}"
	printf '[{"subnet":"10.244.%s.0/24","public_ip":"192.168.77.1%s","mac":"%s"}]\n' "$2" "$2" "${MAC[$2]}" \
		>"$T_TMP/v4-$1.json"
	check "h$1: peer sync v4" ovlctl_in "${H[$1]}" peer sync "$T_TMP/v4-$1.json"
done
check "h1: v6 route fd44:2::/64 via fd44:2:: dev flannel-v6.1, neighbour and fdb" bash -c "
	ip -n ${H[1]} -6 route show fd44:2::/64 | grep -q 'via fd44:2:: dev flannel-v6.1' &&
	ip -n ${H[1]} -6 neigh show dev flannel-v6.1 | grep -q 'fd44:2:: lladdr ${MAC6[2]} PERMANENT' &&
	bridge -n ${H[1]} fdb show dev flannel-v6.1 | grep -q '${MAC6[2]} dst fd77::12 self permanent'"
check "h1: peer list of flannel-v6.1" bash -c "
	ip netns exec ${H[1]} '$OVLCTL' --json peer list --link flannel-v6.1 |
		jq -e '. == [{\"subnet\":\"fd44:2::/64\",\"public_ip\":\"fd77::12\",\"mac\":\"${MAC6[2]}\"}]'"
# The first IPv6 packets may wait for the pods' and hosts' link-local
# addresses to leave DAD (the kernel then answers neighbour solicitations):
# the first crossing gets a few tries, the rest must work at once.
check "pod 1 -> pod 2 over IPv6 (flannel-v6.1)" \
	wait_for 5 ip netns exec "${P[1]}" ping -6 -c 1 -W 1 fd44:2::2
check "pod 2 -> pod 1 over IPv6" ip netns exec "${P[2]}" ping -6 -c 1 -W 2 fd44:1::2
check "pod 1 -> pod 2 over IPv4 (dual stack)" ip netns exec "${P[1]}" ping -c 1 -W 2 10.244.2.2
check "pod 2 -> pod 1 over IPv4" ip netns exec "${P[2]}" ping -c 1 -W 2 10.244.1.2

printf '[{"subnet":"fd44:2::/64","public_ip":"fd77::12","mac":"%s"}]\n' "${MAC6[2]}" >"$T_TMP/v6-1.json"
ip -n "${H[1]}" link set flannel-v6.1 down
ip -n "${H[1]}" link set flannel-v6.1 up
check_fails "after a flap of flannel-v6.1 the IPv6 path is gone" \
	ip netns exec "${P[1]}" ping -6 -c 1 -W 1 fd44:2::2
check "sync restores it" ovlctl_in "${H[1]}" peer sync --link flannel-v6.1 "$T_TMP/v6-1.json"
check "pod 1 -> pod 2 over IPv6 again" ip netns exec "${P[1]}" ping -6 -c 1 -W 2 fd44:2::2
check "the v4 peers were not touched by the v6 sync" ip netns exec "${P[1]}" ping -c 1 -W 2 10.244.2.2
check "an IPv4 peer is refused on the IPv6 link" bash -c "
	out=\$(ip netns exec ${H[1]} '$OVLCTL' peer add --link flannel-v6.1 --subnet 10.244.2.0/24 \
		--public-ip 192.168.77.12 --mac ${MAC[2]} 2>&1); rc=\$?
	echo \"\$out\"; [ \$rc -ne 0 ] && grep -q 'IPv4 subnet on IPv6 link' <<<\"\$out\""
check "vxlan down flannel-v6.1 leaves flannel.1" bash -c "
	ip netns exec ${H[1]} '$OVLCTL' vxlan down --name flannel-v6.1 &&
	! ip -n ${H[1]} link show flannel-v6.1 2>/dev/null && ip -n ${H[1]} link show flannel.1 >/dev/null"
check "pod 1 -> pod 2 over IPv4 still" ip netns exec "${P[1]}" ping -c 1 -W 2 10.244.2.2

t_finish
