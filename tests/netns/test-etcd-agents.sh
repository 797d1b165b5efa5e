#!/bin/bash
# test-etcd-agents.sh - the embedded agent (`ovlctl run`) on a real etcd 3.4
# reached over the underlay: etcd runs inside the switch namespace on br0
# (192.168.77.1), its data on tmpfs, stopped and restarted by PID.  Three
# hosts take the network config from etcd and converge; etcd then goes away
# under them: pods keep pinging without a loss, agents keep running, and
# once etcd is back (same data dir) a fourth host is installed by the others
# within 5 s (its agent, started while etcd was down, waited for it) and
# every agent logs that it reconnected by itself.  A lease
# written by hand in flanneld's exact format, with an etcd lease, becomes a
# peer on every agent, and so does one whose field names are lower-case.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-etcd.sh"
cleanup() {
	t_cleanup
	rm -rf "$ETCD_SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The real binary, not libtool's wrapper script (half a second per start).
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
ETCD_IP=192.168.77.1
ETCD_PORT=2379		# the switch namespace is new: nothing else listens there
store="etcd://$ETCD_IP:$ETCD_PORT"
PREFIX=/coreos.com/network
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
declare -A HOST POD AGENT

# etcd in the switch namespace: clients over br0, its peer URL on that
# namespace's loopback.  `ip netns exec` execs etcd: $! is etcd's PID.
etcd_start() {
	ip netns exec "$sw" etcd --name agents --data-dir "$ETCD_SHM/data" \
		--listen-client-urls "http://$ETCD_IP:$ETCD_PORT" \
		--advertise-client-urls "http://$ETCD_IP:$ETCD_PORT" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster agents=http://127.0.0.1:2380 \
		--initial-cluster-state new >> "$T_TMP/etcd.log" 2>&1 &
	ETCD_PID=$!
	track_pid "$ETCD_PID"
}
ectl() { ip netns exec "$sw" etcdctl --endpoints="$ETCD_IP:$ETCD_PORT" "$@"; }
etcd_healthy() { ectl endpoint health >/dev/null 2>&1; }

# host N: hN at 192.168.77.1N with pod 10.244.N.2 behind cni0; subnet.env
# is pre-written so the agent takes 10.244.N.0/24 and the pod can exist
# before the agent starts.
host() {
	read -r "HOST[$1]" "POD[$1]" < <(node_host "$sw" "h$1" "192.168.77.1$1/24" "$1")
}
# agent N: hN's agent, without --config: the network config comes from etcd.
agent() {
	ovlctl_bg "${HOST[$1]}" "$T_TMP/h$1.log" --store "$store" run --node "h$1" \
		--iface eth0 --subnet-file "$T_TMP/h$1.env"
	AGENT[$1]=$BG_PID
}
logged() { grep -q -- "$2" "$T_TMP/h$1.log"; }
ready() { logged "$1" 'notice: ready'; }
running() { local n; for n in "$@"; do kill -0 "${AGENT[$n]}" 2>/dev/null || return 1; done; }
ping1() { ip netns exec "${POD[$1]}" ping -c1 -W1 -q "10.244.$2.2" >/dev/null 2>&1; }
mac_of() { ip -n "${HOST[$1]}" -br link show flannel.1 | awk '{print $3}'; }
# installed N SUBNET MAC VTEP: hN has the route, neighbour and fdb entry.
installed() {
	local h=${HOST[$1]} gw=${2%/*}
	ip -n "$h" route show "$2" | grep -q "via $gw dev flannel.1" &&
		ip -n "$h" neigh show "$gw" dev flannel.1 | grep -qi "lladdr $3" &&
		bridge -n "$h" fdb show dev flannel.1 | grep -qi "^$3 dst $4 "
}
installed_on() { # SUBNET MAC VTEP N...
	local subnet=$1 mac=$2 vtep=$3 n; shift 3
	for n in "$@"; do installed "$n" "$subnet" "$mac" "$vtep" || return 1; done
}

# ---- etcd on the underlay, the config put from a host ----------------------
sw=$(underlay_add)
ip -n "$sw" addr add "$ETCD_IP/24" dev br0
etcd_start
check "etcd starts in the switch namespace on $ETCD_IP:$ETCD_PORT" wait_for 15 etcd_healthy
for n in 1 2 3; do host "$n"; done
echo '{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan", "VNI": 1 } }' > "$T_TMP/net-conf.json"
check "ovlctl config put from a host over the underlay" \
	ovlctl_in "${HOST[1]}" --store "$store" config put "$T_TMP/net-conf.json"
check "the config is at flannel's key" sh -c \
	"ip netns exec '$sw' etcdctl --endpoints='$ETCD_IP:$ETCD_PORT' get --print-value-only '$PREFIX/config' | jq -e '.Network == \"10.244.0.0/16\"'"

# ---- three agents converge ---------------------------------------------------
for n in 1 2 3; do agent "$n"; done
all_ready() { ready 1 && ready 2 && ready 3; }
check "three agents on etcd become ready" wait_for 15 all_ready
for pair in "1 2" "1 3" "2 1" "2 3" "3 1" "3 2"; do
	set -- $pair
	check "pod $1 reaches pod $2" wait_for 5 ping1 "$1" "$2"
done
ectl get --prefix "$PREFIX/subnets/" > "$T_TMP/subnets.txt"
check "etcd holds three subnet keys" test "$(grep -c "^$PREFIX/subnets/" "$T_TMP/subnets.txt")" -eq 3
flannel_format() { # N: hN's value is flanneld's LeaseAttrs (plus NodeName)
	local value
	value=$(ectl get --print-value-only "$PREFIX/subnets/10.244.$1.0-24") &&
		echo "$value" | jq -e --arg ip "192.168.77.1$1" --arg mac "$(mac_of "$1")" \
			'.PublicIP == $ip and .BackendType == "vxlan" and
			 .BackendData == {"VNI": 1, "VtepMAC": $mac}'
}
for n in 1 2 3; do
	check "h$n's key 10.244.$n.0-24 holds flanneld's format with its device MAC" flannel_format "$n"
done
has_lease() { # KEY: the key is bound to an etcd lease (it expires)
	ectl get -w json "$1" | jq -e '.kvs[0].lease != null and .kvs[0].lease != 0'
}
check "the subnet keys carry an etcd lease" has_lease "$PREFIX/subnets/10.244.1.0-24"

# ---- etcd stopped under the running overlay -----------------------------------
ip netns exec "${POD[1]}" ping -i 0.1 -W1 -q 10.244.2.2 > "$T_TMP/ping12.out" 2>&1 &
ping12=$!
track_pid "$ping12"
ip netns exec "${POD[3]}" ping -i 0.1 -W1 -q 10.244.1.2 > "$T_TMP/ping31.out" 2>&1 &
ping31=$!
track_pid "$ping31"
sleep 0.5
etcd_stop "$ETCD_PID"
check "etcd is stopped" sh -c "! kill -0 $ETCD_PID 2>/dev/null"
# The 4th host and its agent start while etcd is down: the agent waits.
host 4
agent 4
sleep 4
check "agents keep running while etcd is down" running 1 2 3
check "pods keep pinging while etcd is down" ping1 2 3
for n in 1 2 3; do
	check "h$n's agent noticed etcd's absence" logged "$n" "v3/watch: cannot connect"
done
check "h4's agent waits for the unreachable store" running 4
check "h4's agent says why it waits" logged 4 "v3/kv/range: cannot connect"
check "h4's agent says that it retries" logged 4 "store unreachable: retrying in 1 s"
t_back=$(now_ms)
etcd_start
check "etcd is back with the same data dir" wait_for 15 etcd_healthy
check "h4's agent becomes ready" wait_for 5 ready 4
mac4=$(mac_of 4)
h4_everywhere() { installed_on 10.244.4.0/24 "$mac4" 192.168.77.14 1 2 3; }
check "h1..h3 install h4 within 5 s of etcd's return" wait_for 5 h4_everywhere
echo "    h4 installed on h1..h3 $(( $(now_ms) - t_back )) ms after etcd was restarted"
check "pod 4 reaches pod 1" wait_for 3 ping1 4 1
check "pod 2 reaches pod 4" wait_for 3 ping1 2 4
kill -INT "$ping12" "$ping31"
wait "$ping12" "$ping31"
lost() { # FILE: packets lost by a ping
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$1" |
		{ read -r sent got; echo "sent ${sent:-0} received ${got:-0}"; [ "${sent:-0}" -gt 40 ] && [ "$sent" = "$got" ]; }
}
check "a continuous ping pod 1 -> pod 2 across the outage lost nothing" lost "$T_TMP/ping12.out"
check "a continuous ping pod 3 -> pod 1 across the outage lost nothing" lost "$T_TMP/ping31.out"
for n in 1 2 3; do
	check "h$n's agent logged its reconnection to etcd" logged "$n" "etcd watch: reconnected"
done
check "h1's subnet key is still in etcd" has_lease "$PREFIX/subnets/10.244.1.0-24"

# ---- a flanneld lease written by hand ---------------------------------------------
lease_id=$(ectl lease grant 60 | awk '{print $2}')
ectl put --lease="$lease_id" "$PREFIX/subnets/10.244.50.0-24" \
	'{"PublicIP":"192.168.77.50","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0e:00:00:00:50:05"}}' >/dev/null
check "a flanneld-written lease becomes a peer on every agent" \
	wait_for 3 installed_on 10.244.50.0/24 0e:00:00:00:50:05 192.168.77.50 1 2 3 4
ectl lease revoke "$lease_id" >/dev/null
gone() { local n; for n in 1 2 3 4; do ip -n "${HOST[$n]}" route show 10.244.50.0/24 | grep -q . && return 1; done; return 0; }
check "its revocation removes it from every agent" wait_for 3 gone
# Go's encoding/json takes LeaseAttrs field names in any case: so do we.
lease_id=$(ectl lease grant 60 | awk '{print $2}')
ectl put --lease="$lease_id" "$PREFIX/subnets/10.244.51.0-24" \
	'{"publicIP":"192.168.77.51","backendType":"vxlan","backendData":{"vni":1,"vtepMAC":"0e:00:00:00:51:05"}}' >/dev/null
check "a lease with lower-case field names becomes a peer on every agent" \
	wait_for 3 installed_on 10.244.51.0/24 0e:00:00:00:51:05 192.168.77.51 1 2 3 4
ectl lease revoke "$lease_id" >/dev/null

if [ "$T_FAILED" -gt 0 ] || [ -n "${OVL_SHOW_LOGS:-}" ]; then
	for n in 1 2 3 4; do echo "--- h$n agent log"; cat "$T_TMP/h$n.log" 2>/dev/null; done
	echo "--- etcd log (tail)"; tail -20 "$T_TMP/etcd.log"
fi
t_finish
