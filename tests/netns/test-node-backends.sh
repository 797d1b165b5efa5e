#!/bin/bash
# test-node-backends.sh - the embedded agent (`ovlctl run`) on its other
# data paths, on one set of hosts in namespaces: host-gw (routes via the
# underlay addresses, no device; join, leave, an off-link peer skipped, an
# underlay flap repaired, a restart without loss), udp (pods across
# flannel0; a flanneld record with an empty BackendType is a peer; join,
# leave, flannel0 deleted and brought back), --ip-masq (table ovl-ipv4
# applied, pods masqueraded to an outside host but not to each other,
# restored after a flush, cleared by a run without it, which keeps the
# forward accept rules that --no-forward-rules leaves out) and dual stack
# (vxlan and host-gw) over an IPv6 underlay.
. "$(dirname "$0")/lib.sh"

# lib.sh's traps stop the agents and remove every namespace on any exit.
# The real binary, not libtool's wrapper script (half a second per start).
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
declare -A HOST POD AGENT
STORE='' CONF=''

# host N: hN (192.168.77.N, fd77::N) with pod 10.244.N.2 (fd44:0:0:N::2)
# behind cni0.
host() {
	local n=$1
	HOST[$n]=$(host_add "$sw" "h$n" "192.168.77.$n/24") || return 1
	ip -n "${HOST[$n]}" addr add "fd77::$n/64" dev eth0 nodad
	POD[$n]=$(pod_add "${HOST[$n]}" "p$n" "10.244.$n.2/24" "10.244.$n.1") || return 1
	ip -n "${HOST[$n]}" addr add "fd44:0:0:$n::1/64" dev cni0 nodad
	ip -n "${POD[$n]}" addr add "fd44:0:0:$n::2/64" dev eth0 nodad
	ip -n "${POD[$n]}" route add default via "fd44:0:0:$n::1"
}
# backend NAME [NETWORK-JSON]: a fresh store and config for the next runs;
# each host's subnet.env is pre-written so it takes 10.244.N.0/24.
backend() {
	local n
	local name=$1${2:+-dual}
	STORE="file:$T_TMP/$name.json" CONF="$T_TMP/$name.conf"
	echo "{ ${2:-\"Network\": \"10.244.0.0/16\"}, \"Backend\": { \"Type\": \"$1\" } }" > "$CONF"
	for n in 1 2 3 4; do
		printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%s.1/24\nFLANNEL_MTU=1450\n' "$n" > "$T_TMP/h$n.env"
		[ -n "${2:-}" ] && printf 'FLANNEL_IPV6_SUBNET=fd44:0:0:%s::1/64\n' "$n" >> "$T_TMP/h$n.env"
		: > "$T_TMP/h$n.log"
	done
}
agent() { # N [OPTIONS]
	local n=$1; shift
	ip netns exec "${HOST[$n]}" "$OVLCTL" --store "$STORE" --config "$CONF" run \
		--node "h$n" --iface eth0 --subnet-file "$T_TMP/h$n.env" "$@" >> "$T_TMP/h$n.log" 2>&1 &
	AGENT[$n]=$!
	track_pid "${AGENT[$n]}"
}
unreachable() { ! ip netns exec "${POD[$1]}" ping -c1 -W1 -q "10.244.$2.2" >/dev/null 2>&1; }
route_via() { ip -n "${HOST[$1]}" route show "$2" | grep -q "via $3 dev eth0"; }
no_route() { ! ip -n "${HOST[$1]}" route show "$2" | grep -q .; }
logged() { grep -q -- "$2" "$T_TMP/h$1.log"; }
lease_type() { jq -e --arg t "$2" ".leases[\"$1\"].BackendType == \$t" "${STORE#file:}"; }
all_ready_twice() { COUNT=2 all_ready "$@"; }
reached_again() { COUNT=2 all_ready 4 && reached_by 4 1; }
joined() { all_ready 4 && reached_by 4 1 2 3 && reached_by 1 4; }
# restart N OPTIONS: stops hN's agent (default stop) and starts it again.
restart() { local n=$1; shift; stop_agent "$n"; agent "$n" "$@"; }
# edit JQ-FILTER: changes the store file as another writer would.
edit() {
	local file=${STORE#file:}
	flock "$file.lock" sh -c "jq -c '.revision += 1 | $1' '$file' > '$file.new' && mv '$file.new' '$file'"
}
record() { # KEY IP TYPE: a record as a flanneld of that backend writes it
	printf '.leases["%s"] = {"PublicIP":"%s","BackendType":"%s","NodeName":"x-%s","Expiration":%s}' \
		"$1" "$2" "$3" "$1" $(( $(date +%s) + 3600 ))
}
masq_table() { ip netns exec "${HOST[$1]}" nft list table ip ovl-ipv4 2>/dev/null | grep -q "10.244.0.0/16"; }
no_masq_table() { ! ip netns exec "${HOST[$1]}" nft list table ip ovl-ipv4 >/dev/null 2>&1; }
# flannel's forward rules alone (--iptables-forward-rules without --ip-masq)
forward_only() {
	ip netns exec "${HOST[$1]}" nft list table ip ovl-ipv4 > "$T_TMP/table$1" 2>/dev/null &&
	grep -q 'ip saddr 10.244.0.0/16 accept' "$T_TMP/table$1" &&
	grep -q 'ip daddr 10.244.0.0/16 accept' "$T_TMP/table$1" && ! grep -q postrtg "$T_TMP/table$1"
}

sw=$(underlay_add) || exit 1
for n in 1 2 3 4; do host "$n" || exit 1; done

# ---- host-gw -------------------------------------------------------------------
backend host-gw
for n in 1 2 3; do agent "$n"; done
check "host-gw: three agents are ready" all_ready 1 2 3
check "host-gw: the lease says BackendType host-gw, no BackendData" \
	jq -e '.leases["10.244.1.0-24"] | .BackendType == "host-gw" and (.BackendData == null)' "$T_TMP/host-gw.json"
check "host-gw: pods reach each other" mesh 1 2 3
check "host-gw: h1 routes 10.244.2.0/24 via h2's underlay address" route_via 1 10.244.2.0/24 192.168.77.2
check "host-gw: h3 routes 10.244.1.0/24 via h1's underlay address" route_via 3 10.244.1.0/24 192.168.77.1
check "host-gw: no vxlan or tun device" sh -c "! ip -n '${HOST[1]}' -d link show | grep -qE 'vxlan id|tun type|flannel'"
check "host-gw: FLANNEL_MTU is the underlay's 1500" grep -qx 'FLANNEL_MTU=1500' "$T_TMP/h1.env"
check "host-gw: no UDP 8472 on the underlay while pods ping" sh -c \
	"ip netns exec '${HOST[1]}' timeout 2 tcpdump -c1 -ni eth0 udp port 8472 >'$T_TMP/td' 2>&1 & \
	 sleep 0.5; ip netns exec '${POD[1]}' ping -c3 -i0.2 -q 10.244.2.2 >/dev/null; wait; ! grep -q 'UDP' '$T_TMP/td'"
agent 4
check "host-gw: a 4th host joins and is reached by all" joined
check "host-gw: the others route to it" wait_for 2 route_via 2 10.244.4.0/24 192.168.77.4
edit "$(record 10.244.40.0-24 172.16.5.5 host-gw)"
check "host-gw: an off-link peer is skipped with a log line naming its key" \
	wait_for 3 logged 1 "skipping lease 10.244.40.0-24: .*not on-link"
check "host-gw: it is not routed" no_route 1 10.244.40.0/24
check "host-gw: the other routes stay" route_via 1 10.244.3.0/24 192.168.77.3
restart 4 --teardown; COUNT=2 all_ready 4; stop_agent 4
check "host-gw: a leaver (--teardown) vanishes from the others' routes" wait_for 2 no_route 1 10.244.4.0/24
check "host-gw: and from h3's" wait_for 2 no_route 3 10.244.4.0/24
check "host-gw: the leaver's routes are gone" no_route 4 10.244.1.0/24
# Setting eth0 down flushes its static IPv6 address: put it back (for later).
ip -n "${HOST[1]}" link set eth0 down; sleep 0.2; ip -n "${HOST[1]}" link set eth0 up
ip -n "${HOST[1]}" addr replace fd77::1/64 dev eth0 nodad
check "host-gw: after an underlay flap the routes come back" wait_for 3 route_via 1 10.244.2.0/24 192.168.77.2
check "host-gw: and pods reach each other again" reached_by 2 1
check "host-gw: the flap was logged" logged 1 "eth0 is up again: reinstalling the routes"
# A restart keeps the data path: a ping running throughout loses nothing.
ip netns exec "${POD[2]}" ping -i 0.05 -c 60 -W 1 10.244.1.2 > "$T_TMP/ping" 2>&1 &
pinger=$!
track_pid "$pinger"
sleep 0.3
for n in 1 2 3; do stop_agent "$n"; done
check "host-gw: a default stop keeps the routes" route_via 1 10.244.2.0/24 192.168.77.2
for n in 1 2 3; do agent "$n" --teardown; done
check "host-gw: restarted agents are ready" all_ready_twice 1 2 3
wait "$pinger"
check "host-gw: a ping across the restart lost at most one packet" \
	grep -qE ' (60|59) received' "$T_TMP/ping"
for n in 1 2 3; do stop_agent "$n"; done
check "host-gw: --teardown removes every route" sh -c "! ip -n '${HOST[1]}' route | grep -q '^10.244.[0-9]*.0/24 via'"

# ---- udp -----------------------------------------------------------------------
backend udp
for n in 1 2 3; do agent "$n"; done
check "udp: three agents are ready" all_ready 1 2 3
check "udp: the lease says BackendType udp" lease_type 10.244.1.0-24 udp
check "udp: flannel0 has MTU 1500 - 28" sh -c "ip -n '${HOST[1]}' link show flannel0 | grep -q 'mtu 1472'"
check "udp: FLANNEL_MTU is 1472" grep -qx 'FLANNEL_MTU=1472' "$T_TMP/h1.env"
check "udp: pods reach each other across flannel0" mesh 1 2 3
check "udp: the traffic is UDP 8285 on the underlay" sh -c \
	"ip netns exec '${HOST[1]}' timeout 3 tcpdump -c1 -ni eth0 udp port 8285 >'$T_TMP/td' 2>&1 & \
	 sleep 0.5; ip netns exec '${POD[1]}' ping -c3 -i0.2 -q 10.244.2.2 >/dev/null; wait; grep -q '8285' '$T_TMP/td'"
edit "$(record 10.244.50.0-24 192.168.77.50 '')"
check "udp: a flanneld udp record (empty BackendType) is a peer" \
	wait_for 2 logged 1 "peer 10.244.50.0-24 added: 10.244.50.0/24 via 192.168.77.50"
edit "$(record 10.244.51.0-24 192.168.77.51 vxlan)"
check "udp: a vxlan record is skipped" wait_for 2 logged 1 "skipping lease 10.244.51.0-24: backend type 'vxlan', want 'udp'"
agent 4
check "udp: a 4th host joins and is reached by all" joined
stop_agent 4
check "udp: a stopped agent's flannel0 dies with it" sh -c "! ip -n '${HOST[4]}' link show flannel0 2>/dev/null"
agent 4 --teardown
check "udp: restarted, it is reached again" reached_again
stop_agent 4
check "udp: a leaver (--teardown) is unreachable" wait_for 3 unreachable 1 4
check "udp: its lease is released" sh -c "! jq -e '.leases[\"10.244.4.0-24\"]' '$T_TMP/udp.json'"
ip -n "${HOST[2]}" link del flannel0
check "udp: flannel0 deleted under h2 comes back" wait_for 3 ip -n "${HOST[2]}" link show flannel0
check "udp: and pods reach h2 again" reached_by 2 1 3
check "udp: the repair was logged" logged 2 "flannel0 deleted: brought back"
for n in 1 2 3; do stop_agent "$n"; done

# ---- --ip-masq -----------------------------------------------------------------
backend vxlan
for n in 1 2 3; do agent "$n" --ip-masq --resync 1; done
check "masq: three agents are ready" all_ready 1 2 3
for n in 1 2 3; do check "masq: table ip ovl-ipv4 holds the network in h$n" masq_table "$n"; done
check "masq: FLANNEL_IPMASQ=true" grep -qx 'FLANNEL_IPMASQ=true' "$T_TMP/h1.env"
check "masq: pods reach each other" mesh 1 2 3
# The outside host has no route to the pods: only a masqueraded ping returns.
host_add "$sw" out 192.168.77.100/24 >/dev/null
check "masq: a pod reaches an outside host, masqueraded" \
	ip netns exec "${POD[1]}" ping -c1 -W2 -q 192.168.77.100
check "masq: pod-to-pod traffic keeps the pod address" sh -c \
	"ip netns exec '${POD[2]}' timeout 3 tcpdump -c1 -ni eth0 icmp and src 10.244.1.2 >/dev/null 2>&1 & \
	 sleep 0.5; ip netns exec '${POD[1]}' ping -c3 -i0.2 -q 10.244.2.2 >/dev/null; wait \$!"
ip netns exec "${HOST[2]}" nft flush table ip ovl-ipv4
check "masq: a flushed table is restored within the resync period" wait_for 3 masq_table 2
check "masq: the restore was logged" logged 2 "masquerade rules of 10.244.0.0/16 restored"
ip netns exec "${HOST[3]}" nft delete table ip ovl-ipv4
check "masq: a deleted table is restored too" wait_for 3 masq_table 3
stop_agent 1
check "masq: a default stop keeps the table" masq_table 1
agent 1 --resync 1
check "masq: a run without --ip-masq is ready" wait_for 10 ready_at_least 1 2
check "masq: ... and clears a previous run's masquerade, keeping the forward rules" forward_only 1
check_fails "masq: then the outside host's replies no longer come back" \
	ip netns exec "${POD[1]}" ping -c1 -W1 -q 192.168.77.100
check "masq: FLANNEL_IPMASQ=false" grep -qx 'FLANNEL_IPMASQ=false' "$T_TMP/h1.env"
ip netns exec "${HOST[1]}" nft delete table ip ovl-ipv4
check "forward: deleted forward rules are restored within the resync period" wait_for 3 forward_only 1
restart 1 --resync 1 --no-forward-rules
check "forward: a run with --no-forward-rules is ready" wait_for 10 ready_at_least 1 3
check "forward: ... and has no table" no_masq_table 1
check "forward: pods still reach each other" mesh 1 2 3
restart 2 --ip-masq --teardown; COUNT=2 all_ready 2; stop_agent 2
check "masq: --teardown removes the table" no_masq_table 2
for n in 1 3; do stop_agent "$n"; done

# ---- dual-stack vxlan over an IPv6 underlay ------------------------------------
backend vxlan '"EnableIPv6": true, "Network": "10.244.0.0/16", "IPv6Network": "fd44::/48"'
for n in 1 2 3; do agent "$n" --public-ipv6 "fd77::$n" --teardown; done
check "dual: three agents are ready" all_ready 1 2 3
check "dual: the lease holds both subnets" \
	jq -e '.leases | keys | any(. == "10.244.1.0-24&fd44:0:0:1::-64")' "$T_TMP/vxlan-dual.json"
check "dual: flannel-v6.1 runs over the v6 underlay" sh -c \
	"ip -n '${HOST[1]}' -d link show flannel-v6.1 | grep -q 'local fd77::1'"
check "dual: subnet.env has both" sh -c "grep -qx 'FLANNEL_IPV6_SUBNET=fd44:0:0:1::1/64' '$T_TMP/h1.env' && grep -qx 'FLANNEL_SUBNET=10.244.1.1/24' '$T_TMP/h1.env'"
check "dual: pods reach each other over IPv4" mesh 1 2 3
check "dual: pods reach each other over IPv6" mesh6 1 2 3
check "dual: h1 routes h2's v6 subnet through flannel-v6.1" sh -c \
	"ip -6 -n '${HOST[1]}' route show fd44:0:0:2::/64 | grep -q 'dev flannel-v6.1'"
for n in 1 2 3; do stop_agent "$n"; done
check "dual: --teardown removes both devices" sh -c \
	"! ip -n '${HOST[1]}' link show flannel.1 2>/dev/null && ! ip -n '${HOST[1]}' link show flannel-v6.1 2>/dev/null"

# ---- dual-stack host-gw --------------------------------------------------------
backend host-gw '"EnableIPv6": true, "Network": "10.244.0.0/16", "IPv6Network": "fd44::/48"'
for n in 1 2 3; do agent "$n" --public-ipv6 "fd77::$n" --teardown; done
check "dual host-gw: three agents are ready" all_ready 1 2 3
check "dual host-gw: pods reach each other over IPv4" mesh 1 2 3
check "dual host-gw: pods reach each other over IPv6" mesh6 1 2 3
check "dual host-gw: h1 routes h2's v6 subnet via fd77::2" sh -c \
	"ip -6 -n '${HOST[1]}' route show fd44:0:0:2::/64 | grep -q 'via fd77::2 dev eth0'"
for n in 1 2 3; do stop_agent "$n"; done
check "dual host-gw: --teardown removes the v6 routes" sh -c \
	"! ip -6 -n '${HOST[1]}' route | grep -q '^fd44:0:0:.::/64 via'"

t_finish
