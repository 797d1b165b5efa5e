#!/bin/bash
# test-vxlan-sync.sh - reconciling: `peer sync` removes stale entries and
# leaves foreign ones alone, restores a flapped device; an existing device
# with other creation-only parameters is refused (naming the difference) or
# recreated with --replace; invalid peers and a missing CAP_NET_ADMIN are
# refused with nothing installed.
source "$(dirname "$0")/lib.sh"

SW=$(underlay_add)
H=$(host_add "$SW" h1 192.168.77.11/24)
run() { ovlctl_in "$H" "$@"; }
fails_with() {	# fails_with TEXT COMMAND...: the command fails and says TEXT
	local text=$1 out; shift
	out=$("$@" 2>&1) && { echo "unexpected success: $out"; return 1; }
	echo "$out"; grep -qF -- "$text" <<<"$out"
}
peer() { printf '{"subnet":"10.244.%d.0/24","public_ip":"192.168.77.%d","mac":"0e:00:00:00:00:%02x"}' "$1" "$(($1 + 10))" "$1"; }
list() { local sep= i; printf '['; for i in "$@"; do printf '%s%s' "$sep" "$(peer "$i")"; sep=,; done; printf ']\n'; }
ours() {	# routes, nexthops, neighbours and fdb entries libovl made
	ip -n "$H" -j route show proto 111
	ip -n "$H" -j nexthop show
	ip -n "$H" -j neigh show dev flannel.1 nud permanent
	bridge -n "$H" -j fdb show dev flannel.1
}
count_routes() { ip -n "$H" -j route show proto 111 | jq length; }

check "vxlan up" run vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 --network 10.244.0.0/16
list 2 3 4 >"$T_TMP/234.json"
list 2 3 >"$T_TMP/23.json"
check "sync peers 2 3 4" run peer sync "$T_TMP/234.json"
check "3 routes, 3 nexthops, 3 neighbours, 3 fdb entries" bash -c "
	[ \$(ip -n $H -j route show proto 111 | jq length) = 3 ] &&
	[ \$(ip -n $H -j nexthop show | jq length) = 3 ] &&
	[ \$(ip -n $H -j neigh show dev flannel.1 | jq length) = 3 ] &&
	[ \$(bridge -n $H -j fdb show dev flannel.1 | jq length) = 3 ]"

# A peer that left while nothing ran, and entries that are not ours.
check "a separate process adds peer 5" run peer add --subnet 10.244.5.0/24 \
	--public-ip 192.168.77.15 --mac 0e:00:00:00:00:05
ip -n "$H" route add 10.244.50.0/24 via 192.168.77.1
ip -n "$H" route add 10.244.51.0/24 via 10.244.51.0 dev flannel.1 onlink
ip -n "$H" neigh add 10.244.60.0 lladdr 0e:00:00:00:00:60 dev flannel.1 nud permanent
check "sync peers 2 3" run peer sync "$T_TMP/23.json"
check "peers 4 and 5 are gone (route, nexthop, neighbour, fdb)" bash -c "
	[ -z \"\$(ip -n $H route show 10.244.4.0/24)\" ] && [ -z \"\$(ip -n $H route show 10.244.5.0/24)\" ] &&
	[ \$(ip -n $H -j nexthop show | jq length) = 2 ] &&
	! ip -n $H -j neigh show dev flannel.1 | jq -e '.[] | select(.dst == \"10.244.4.0\" or .dst == \"10.244.5.0\")' &&
	! bridge -n $H -j fdb show dev flannel.1 | jq -e '.[] | select(.mac == \"0e:00:00:00:00:04\" or .mac == \"0e:00:00:00:00:05\")'"
check "foreign routes are left alone" bash -c "
	ip -n $H route show 10.244.50.0/24 | grep -q 'via 192.168.77.1' &&
	ip -n $H route show 10.244.51.0/24 | grep -q 'via 10.244.51.0'"
check "a foreign neighbour is left alone" bash -c "ip -n $H neigh show 10.244.60.0 dev flannel.1 | grep -q 0e:00:00:00:00:60"
check "peer list shows exactly peers 2 and 3" bash -c "
	ip netns exec $H '$OVLCTL' --json peer list | jq -e 'map(.subnet) == [\"10.244.2.0/24\", \"10.244.3.0/24\"]'"
ip -n "$H" route del 10.244.50.0/24
ip -n "$H" route del 10.244.51.0/24
ip -n "$H" neigh del 10.244.60.0 dev flannel.1
ours >"$T_TMP/synced"

# A changed peer (new MAC and underlay address) is updated in place.
sed 's/0e:00:00:00:00:03/0e:00:00:00:00:33/; s/192.168.77.13/192.168.77.33/' "$T_TMP/23.json" >"$T_TMP/23b.json"
check "sync with peer 3 changed" run peer sync "$T_TMP/23b.json"
check "peer 3: new MAC in neighbour and fdb, old fdb entry gone" bash -c "
	ip -n $H neigh show 10.244.3.0 dev flannel.1 | grep -q 0e:00:00:00:00:33 &&
	bridge -n $H fdb show dev flannel.1 | grep -q '0e:00:00:00:00:33 dst 192.168.77.33' &&
	! bridge -n $H fdb show dev flannel.1 | grep -q 0e:00:00:00:00:03"
check "sync back" run peer sync "$T_TMP/23.json"
ours >"$T_TMP/back"
check "state identical to the first sync" diff "$T_TMP/synced" "$T_TMP/back"

# A link flap wipes routes, nexthops and neighbours but keeps fdb entries.
ip -n "$H" link set flannel.1 down
ip -n "$H" link set flannel.1 up
check "the flap removed the routes" bash -c "[ \$(ip -n $H -j route show proto 111 | jq length) = 0 ]"
check "sync after the flap" run peer sync "$T_TMP/23.json"
ours >"$T_TMP/restored"
check "sync restored everything as it was" diff "$T_TMP/synced" "$T_TMP/restored"
check "sync with an empty list removes every peer" bash -c "
	echo '[]' | ip netns exec $H '$OVLCTL' peer sync - && [ -z \"\$(ip -n $H -j route show proto 111 | jq '.[]')\" ] &&
	[ \$(ip -n $H -j nexthop show | jq length) = 0 ] && [ \$(bridge -n $H -j fdb show dev flannel.1 | jq length) = 0 ]"
check "sync peers 2 3 again" run peer sync "$T_TMP/23.json"

# Creation-only parameters.
check "another VNI is refused, naming the difference" fails_with "VNI 1 (want 2)" \
	run vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 --network 10.244.0.0/16 --name flannel.1 --vni 2
check "another port too" fails_with "port 8472 (want 4789)" \
	run vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 --name flannel.1 --port 4789
check "...and the device was not touched" bash -c "
	ip -n $H -j -d link show flannel.1 | jq -e '.[0].linkinfo.info_data.id == 1' &&
	[ \$(ip -n $H -j route show proto 111 | jq length) = 2 ]"
check "--replace recreates it with VNI 2" run vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 \
	--network 10.244.0.0/16 --name flannel.1 --vni 2 --replace
check "...VNI 2, address and state in place" bash -c "
	ip -n $H -j -d link show flannel.1 | jq -e '.[0].linkinfo.info_data.id == 2 and (.[0].flags | index(\"UP\"))' &&
	ip -n $H -j -4 addr show flannel.1 | jq -e '.[0].addr_info[0].local == \"10.244.1.0\"'"
check "a given MAC is kept" bash -c "
	ip netns exec $H '$OVLCTL' vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 --name flannel.9 --vni 9 \
		--mac 0e:aa:bb:cc:dd:09 >/dev/null &&
	[ \"\$(ip -n $H -j link show flannel.9 | jq -r '.[0].address')\" = 0e:aa:bb:cc:dd:09 ] &&
	ip netns exec $H '$OVLCTL' vxlan down --name flannel.9"
check "another address of ours on the device is removed" bash -c "
	ip -n $H addr add 10.244.9.9/24 dev flannel.1 &&
	ip netns exec $H '$OVLCTL' vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 --network 10.244.0.0/16 --vni 2 --name flannel.1 >/dev/null &&
	ip -n $H -j -4 addr show flannel.1 | jq -e '[.[0].addr_info[].local] == [\"10.244.1.0\"]'"
check "the device of the local address, not a guess" fails_with "no device holds 192.168.77.99" \
	run vxlan up --local 192.168.77.99 --subnet 10.244.1.0/24 --name flannel.5 --vni 5
check "tx checksum workaround" bash -c "
	ip netns exec $H '$OVLCTL' vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 --name flannel.6 --vni 6 \
		--tx-checksum-off >/dev/null &&
	{ ! command -v ethtool >/dev/null || ip netns exec $H ethtool -k flannel.6 | grep -q 'tx-checksum-ip-generic: off'; } &&
	ip netns exec $H '$OVLCTL' vxlan down --name flannel.6"

# Invalid peers: refused before anything is sent.
check "sync peers 2 3 on the new device" run peer sync "$T_TMP/23.json"
ours >"$T_TMP/valid"
bad() {	# bad NAME TEXT SUBNET PUBLIC_IP MAC: add and sync both refuse it
	local name=$1 text=$2 s=$3 ip=$4 mac=$5
	check "invalid peer ($name): add refused" fails_with "$text" \
		run peer add --subnet "$s" --public-ip "$ip" --mac "$mac"
	printf '[%s,{"subnet":"%s","public_ip":"%s","mac":"%s"}]\n' "$(peer 4)" "$s" "$ip" "$mac" >"$T_TMP/bad.json"
	check "invalid peer ($name): sync refused" fails_with "$text" run peer sync "$T_TMP/bad.json"
}
bad "outside the network" "outside the cluster network" 10.245.0.0/24 192.168.77.20 0e:00:00:00:00:20
bad "our own subnet" "our own subnet" 10.244.1.0/24 192.168.77.20 0e:00:00:00:00:20
bad "zero MAC" "not a unicast MAC" 10.244.20.0/24 192.168.77.20 00:00:00:00:00:00
bad "multicast MAC" "not a unicast MAC" 10.244.20.0/24 192.168.77.20 01:00:5e:00:00:01
bad "unspecified IP" "not a unicast address" 10.244.20.0/24 0.0.0.0 0e:00:00:00:00:20
bad "multicast IP" "not a unicast address" 10.244.20.0/24 239.1.1.1 0e:00:00:00:00:20
bad "loopback IP" "not a unicast address" 10.244.20.0/24 127.0.0.1 0e:00:00:00:00:20
bad "IPv6 subnet" "IPv6 subnet" fd00:20::/64 192.168.77.20 0e:00:00:00:00:20
bad "IPv6 underlay" "is IPv6 but the underlay is IPv4" 10.244.20.0/24 fd77::20 0e:00:00:00:00:20
bad "host bits" "host bits" 10.244.20.1/24 192.168.77.20 0e:00:00:00:00:20
check "duplicate subnets in a sync are refused" fails_with "overlap" \
	run peer sync <(list 2 2)
ours >"$T_TMP/after-bad"
check "nothing was installed by the invalid peers" diff "$T_TMP/valid" "$T_TMP/after-bad"

# Without CAP_NET_ADMIN: -EPERM, a message that says so, nothing half-made.
nocap() { ip netns exec "$H" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all "$OVLCTL" "$@"; }
check "vxlan up without CAP_NET_ADMIN: EPERM, says so" fails_with "CAP_NET_ADMIN" \
	nocap vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 --name flannel.8 --vni 8
check "...and no device was made" bash -c "! ip -n $H link show flannel.8 2>/dev/null"
check "peer add without CAP_NET_ADMIN: Operation not permitted" fails_with "Operation not permitted" \
	nocap peer add --subnet 10.244.7.0/24 --public-ip 192.168.77.17 --mac 0e:00:00:00:00:07
list 2 7 >"$T_TMP/27.json"
chmod 755 "$T_TMP"; chmod 644 "$T_TMP/27.json"	# readable by uid 65534
check "peer sync without CAP_NET_ADMIN: EPERM" fails_with "CAP_NET_ADMIN" nocap peer sync "$T_TMP/27.json"
check "vxlan show works without CAP_NET_ADMIN (read only)" nocap vxlan show
ours >"$T_TMP/after-nocap"
check "nothing was installed without CAP_NET_ADMIN" diff "$T_TMP/valid" "$T_TMP/after-nocap"

# DirectRouting: a peer on the underlay's link gets a plain route, no
# neighbour or fdb entry; vxlan down removes that route too.
check "DirectRouting: vxlan up flannel.4" run vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 \
	--network 10.244.0.0/16 --name flannel.4 --vni 4 --direct-routing
check "DirectRouting: an on-link peer needs no MAC" run peer add --link flannel.4 --subnet 10.244.2.0/24 \
	--public-ip 192.168.77.12
check "DirectRouting: route via 192.168.77.12 dev eth0, nothing on flannel.4" bash -c "
	ip -n $H route show 10.244.2.0/24 proto 111 | grep -q 'via 192.168.77.12 dev eth0' &&
	[ \$(ip -n $H -j neigh show dev flannel.4 | jq length) = 0 ] &&
	[ \$(bridge -n $H -j fdb show dev flannel.4 | jq length) = 0 ]"
check "DirectRouting: vxlan down removes the underlay route" bash -c "
	ip netns exec $H '$OVLCTL' vxlan down --name flannel.4 &&
	! ip -n $H route show proto 111 | grep -q 'dev eth0'"

t_finish
