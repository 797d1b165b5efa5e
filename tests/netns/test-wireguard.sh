#!/bin/bash
# test-wireguard.sh - the embedded agent (`ovlctl run`) on the wireguard
# backend with wireguard-go (this kernel has no WireGuard): three hosts,
# pods ping across flannel-wg; the underlay carries UDP 51820 and no
# cleartext ICMP; the lease publishes flannel's BackendData; a fourth host
# joins and one leaves; an agent restart keeps the key, the lease's key
# and the running data path; a lease with a bad PublicKey is skipped with
# a log; a killed wireguard-go is brought back with its peers; dual stack
# in Mode separate (flannel-wg and flannel-wg-v6, one key), auto (one
# device, peers over IPv4) and ipv6 (one device, peers over IPv6).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wireguard.sh"

STORE="file:$T_TMP/leases.json" CONF="$T_TMP/net-conf.json"
echo '{ "Network": "10.244.0.0/16", "Backend": { "Type": "wireguard" } }' > "$CONF"

sw=$(underlay_add) || exit 1
for n in 1 2 3 4; do host "$n" || exit 1; done

# ---- three hosts --------------------------------------------------------------
for n in 1 2 3; do agent "$n"; done
check "three agents ready" all_ready 1 2 3
check "userspace devices flannel-wg run by wireguard-go" \
	sh -c "[ -n \"$(wg_pid 1)\" ] && ip -n ${HOST[1]} link show flannel-wg | grep -q 'mtu 1420'"
check "device address 10.244.1.0/32, one link route for the network" \
	sh -c "ip -n ${HOST[1]} addr show flannel-wg | grep -q 'inet 10.244.1.0/32' &&
	       ip -n ${HOST[1]} route show 10.244.0.0/16 | grep -q 'dev flannel-wg proto 111 scope link'"
check "key file made with mode 0400" sh -c "[ \"\$(stat -c %a $T_TMP/key1)\" = 400 ]"
check "lease BackendData {PublicKey, Port} as flannel's" lease_data_ok 1
check "subnet.env FLANNEL_MTU=1420 (underlay 1500 - 80)" grep -q '^FLANNEL_MTU=1420' "$T_TMP/h1.env"
check "pods reach each other across WireGuard" mesh 1 2 3
check "h1 holds the peers 2 and 3" has_peers 1 "10.244.2.0/24 10.244.3.0/24 "
status_handshake() {
	in_host 1 "$OVLCTL" --json --store "$STORE" --config "$CONF" status \
		--subnet-file "$T_TMP/h1.env" --node h1 |
		jq -e '.device.name == "flannel-wg" and ([.peers[] | select(.last_handshake > 0 and
			.rx_bytes > 0 and (.public_key | length) == 44)] | length) == 2'
}
check "ovlctl status: per peer key, last handshake, bytes" status_handshake

# ---- the underlay carries WireGuard, not the pods' packets ----------------------
ip netns exec "${HOST[2]}" timeout 5 tcpdump -i eth0 -n -l -c 40 ip > "$T_TMP/underlay.txt" 2>/dev/null &
TCPDUMP=$!
track_pid "$TCPDUMP"
sleep 1
ip netns exec "${POD[1]}" ping -c 10 -i 0.1 -q 10.244.2.2 >/dev/null 2>&1
wait "$TCPDUMP"
count() { grep -c -- "$1" "$T_TMP/underlay.txt"; }
check "underlay: UDP 51820 between the hosts" [ "$(count '192.168.77.1.51820 > 192.168.77.2.51820: UDP')" -ge 10 ]
check "underlay: no cleartext ICMP" [ "$(count ICMP)" -eq 0 ]

# ---- a fourth host joins, one leaves --------------------------------------------
agent 4
check "h4 ready" all_ready 4
joined() { reached_by 4 1 2 3 && reached_by 1 4; }
check "h4's pod reaches and is reached" joined
stop_agent 3
agent 3 --teardown
ready_twice() { COUNT=2 all_ready "$1"; }
check "h3 ready again, to leave with --teardown" ready_twice 3
stop_agent 3
check "h3 left: its wireguard-go ended" wait_for 5 sh -c "[ -z \"\$(ip netns pids ${HOST[3]})\" ]"
check "h1 dropped h3's peer" wait_for 5 has_peers 1 "10.244.2.0/24 10.244.4.0/24 "
check "the others still reach each other" mesh 1 2 4

# ---- an agent restart keeps the key and the data path ----------------------------
key_before=$(pubkey 1) wg_before=$(wg_pid 1)
ip netns exec "${POD[2]}" ping -c 60 -i 0.05 -W 1 10.244.1.2 > "$T_TMP/ping.txt" 2>&1 &
PING=$!
sleep 0.5
stop_agent 1
agent 1
COUNT=2 all_ready 1
wait "$PING"
check "restart: the same key" [ "$(pubkey 1)" = "$key_before" ]
check "restart: the lease keeps the key" lease_data_ok 1
check "restart: the same wireguard-go" [ "$(wg_pid 1)" = "$wg_before" ]
check "restart: no ping lost while the agent was down" grep -q ' 0% packet loss' "$T_TMP/ping.txt"

# ---- a lease with a bad PublicKey is skipped with a log ---------------------------
exp=$(( $(date +%s) + 3600 ))
edit ".leases[\"10.244.9.0-24\"] = {\"PublicIP\":\"192.168.77.9\",\"BackendType\":\"wireguard\",\"BackendData\":{\"PublicKey\":\"not-a-key\",\"Port\":51820},\"NodeName\":\"bad\",\"Expiration\":$exp}"
check "bad PublicKey: skipped with a log" wait_for 5 logged 2 "skipping lease .*10.244.9.0.*PublicKey"
check "bad PublicKey: not a peer" has_peers 2 "10.244.1.0/24 10.244.4.0/24 "
check "bad PublicKey: the others still reach each other" mesh 1 2 4

# ---- a killed wireguard-go is brought back with its peers ----------------------
kill "$(wg_pid 2)"
check "killed wireguard-go: repaired" wait_for 10 logged 2 "flannel-wg deleted: brought back"
check "killed wireguard-go: peers replayed" has_peers 2 "10.244.1.0/24 10.244.4.0/24 "
# The others still hold sessions with the killed instance: they learn the
# new one's when it sends first (else WireGuard re-handshakes in <= 15 s).
reached_first() { reached_by 1 2 && reached_by 4 2; }
check "killed wireguard-go: h2's pod reaches the others first" reached_first
check "killed wireguard-go: then every pod reaches every other" mesh 1 2 4

for n in 1 2 4; do stop_agent "$n"; done

# ---- dual stack ------------------------------------------------------------------
# dual_start MODE A B: hosts A and B on a store of their own, with an IPv6
# underlay fd77::N and pods with fd44:0:0:N::2, agents in Mode MODE.
dual_start() {
	local mode=$1 n; shift
	STORE="file:$T_TMP/dual-$mode.json" CONF="$T_TMP/dual-$mode.conf"
	echo '{ "Network": "10.244.0.0/16", "EnableIPv6": true, "IPv6Network": "fd44::/48",
		"IPv6SubnetLen": 64, "Backend": { "Type": "wireguard", "Mode": "'"$mode"'" } }' > "$CONF"
	for n in "$@"; do
		host "$n" || return 1
		ip -n "${HOST[$n]}" addr add "fd77::$n/64" dev eth0 nodad
		ip -n "${HOST[$n]}" addr add "fd44:0:0:$n::1/64" dev cni0 nodad
		ip -n "${POD[$n]}" addr add "fd44:0:0:$n::2/64" dev eth0 nodad
		ip -n "${POD[$n]}" route add default via "fd44:0:0:$n::1"
		printf 'FLANNEL_IPV6_SUBNET=fd44:0:0:%s::1/64\n' "$n" >> "$T_TMP/h$n.env"
		agent "$n"
	done
}
# endpoint_of N SUBNET: "KEY ENDPOINT:PORT" of hN's peer for SUBNET.
endpoint_of() {
	in_host "$1" "$OVLCTL" --json wireguard show --name "${3:-flannel-wg}" |
		jq -r --arg s "$2" '.peers[] | select(.subnet == $s) | "\(.public_key) \(.public_ip):\(.port)"'
}

# Mode separate: flannel-wg and flannel-wg-v6, one key.
dual_start separate 5 6
check "separate: both agents ready" all_ready 5 6
dual_devices() {
	ip -n "${HOST[5]}" addr show flannel-wg-v6 | grep -q 'inet6 fd44:0:0:5::/128' &&
		ip -6 -n "${HOST[5]}" route show fd44::/48 | grep -q 'dev flannel-wg-v6' &&
		lease_of 5 | jq -e '.BackendV6Data.Port == 51821 and
			.BackendV6Data.PublicKey == .BackendData.PublicKey'
}
check "separate: flannel-wg-v6 with the /128 and the route; BackendV6Data port 51821, one key" dual_devices
check "separate: IPv4 pods reach each other" mesh 5 6
check "separate: IPv6 pods reach each other over flannel-wg-v6" mesh6 5 6
check "separate: the IPv6 device's peer is reached at [fd77::6]:51821" \
	test "$(endpoint_of 5 fd44:0:0:6::/64 flannel-wg-v6 | cut -d' ' -f2)" = "fd77::6:51821"
for n in 5 6; do stop_agent "$n"; done

# Mode auto: one device flannel-wg for both families, one peer per host
# holding both subnets, reached over IPv4 (both underlays are private:
# flannel's selectMode keeps IPv4).
dual_start auto 7 8
check "auto: both agents ready" all_ready 7 8
one_device() {
	! ip -n "${HOST[7]}" link show flannel-wg-v6 >/dev/null 2>&1 &&
		ip -n "${HOST[7]}" addr show flannel-wg | grep -q 'inet 10.244.7.0/32' &&
		ip -n "${HOST[7]}" addr show flannel-wg | grep -q 'inet6 fd44:0:0:7::/128' &&
		ip -6 -n "${HOST[7]}" route show fd44::/48 | grep -q 'dev flannel-wg' &&
		ip -n "${HOST[7]}" route show 10.244.0.0/16 | grep -q 'dev flannel-wg'
}
check "auto: no flannel-wg-v6; flannel-wg has both /32 and /128 and both routes" one_device
one_port() { lease_of 7 | jq -e '.BackendData.Port == 51820 and .BackendV6Data.Port == 51820'; }
check "auto: the lease publishes the device's one port for both families" one_port
one_peer() {
	local v4 v6
	v4=$(endpoint_of 7 10.244.8.0/24) v6=$(endpoint_of 7 fd44:0:0:8::/64)
	[ -n "$v4" ] && [ "$v4" = "$v6" ] && [ "${v4#* }" = "192.168.77.8:51820" ] &&
		[ "$(in_host 7 "$OVLCTL" --json wireguard show | jq '[.peers[].public_key] | unique | length')" = 1 ]
}
check "auto: one peer with both subnets at 192.168.77.8:51820" one_peer
check "auto: IPv4 pods reach each other" mesh 7 8
check "auto: IPv6 pods reach each other over flannel-wg" mesh6 7 8
for n in 7 8; do stop_agent "$n"; done

# Mode ipv6: the same device, its peers reached over the IPv6 underlay.
dual_start ipv6 9 10
check "ipv6: both agents ready" all_ready 9 10
check "ipv6: the peer of both subnets is reached at fd77::10 port 51820" \
	test "$(endpoint_of 9 10.244.10.0/24 | cut -d' ' -f2) $(endpoint_of 9 fd44:0:0:10::/64 | cut -d' ' -f2)" = "fd77::10:51820 fd77::10:51820"
check "ipv6: IPv4 pods reach each other over the IPv6 underlay" mesh 9 10
check "ipv6: IPv6 pods reach each other" mesh6 9 10
for n in 9 10; do stop_agent "$n"; done
t_finish
