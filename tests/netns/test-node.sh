#!/bin/bash
# test-node.sh - the embedded agent (`ovlctl run`, ovl_node) on real kernels
# in namespaces, sharing one file store: three hosts converge; a fourth joins
# and is reachable within 1 s, then leaves and is gone within 1 s; bad lease
# records are skipped with a log line; a deleted or flapped device comes back
# within 1 s; a restart keeps subnet and MAC, drops a host that left meanwhile
# and loses at most one packet; a stolen lease is noticed and given up.
. "$(dirname "$0")/lib.sh"
trap 'exit 130' INT TERM

# The real binary, not libtool's wrapper script (half a second per start).
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
store="file:$T_TMP/leases.json"
conf="$T_TMP/net-conf.json"
echo '{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }' > "$conf"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
ctl() { "$OVLCTL" --store "$store" --config "$conf" "$@"; }
declare -A HOST POD AGENT

# host N [AGENT OPTIONS]: host hN (192.168.77.N) with pod 10.244.N.2 behind
# cni0; subnet.env is pre-written so the agent takes 10.244.N.0/24 and the
# pod can exist before the agent starts.
host() {
	read -r "HOST[$1]" "POD[$1]" < <(node_host "$sw" "h$1" "192.168.77.$1/24" "$1")
}
# agent N [--auto] [OPTIONS]: (re)starts hN's agent, appending to its log;
# --auto lets it find the underlay from the default route.
agent() {
	local n=$1 iface=(--iface eth0); shift
	[ "${1:-}" = --auto ] && { iface=(); shift; }
	ip netns exec "${HOST[$n]}" "$OVLCTL" --store "$store" --config "$conf" run \
		--node "h$n" "${iface[@]}" --subnet-file "$T_TMP/h$n.env" "$@" >> "$T_TMP/h$n.log" 2>&1 &
	AGENT[$n]=$!
	track_pid "${AGENT[$n]}"
}
ready_count() { grep -c 'notice: ready' "$T_TMP/h$1.log" 2>/dev/null; }
ready_at_least() { [ "$(ready_count "$1")" -ge "$2" ]; }
wait_ready() { wait_for 10 ready_at_least "$@"; }	# N COUNT: "ready" logged COUNT times
stop_agent() { kill -TERM "${AGENT[$1]}" && wait "${AGENT[$1]}"; }
ping1() { ip netns exec "${POD[$1]}" ping -c1 -W1 -q "10.244.$2.2" >/dev/null 2>&1; }
# reached_by (lib.sh) tries often here: convergence times are measured
REACH_SECONDS=2 REACH_WAIT=0.05
routed() { ip -n "${HOST[$1]}" route show "$2" | grep -q .; }
not_routed() { ! routed "$@"; }
mac_of() { ip -n "${HOST[$1]}" -br link show flannel.1 | awk '{print $3}'; }
logged() { grep -q -- "$2" "$T_TMP/h$1.log"; }
within() { # MS START_MS: the time since START is below MS
	local took=$(( $(now_ms) - $2 ))
	echo "took $took ms (limit $1 ms)"
	[ "$took" -le "$1" ]
}
# Pingers started ahead, so that starting processes is not what is timed:
# from each SRC pod, ping DST's pod until the first reply, note its time.
start_pingers() { # DST SRC...
	local dst=$1 src; shift
	rm -f "$T_TMP"/reply.*
	for src in "$@"; do
		ip netns exec "${POD[$src]}" timeout 10 sh -c "until ping -q -c1 -W0.05 10.244.$dst.2 >/dev/null 2>&1; do :; done; echo \$((\$(date +%s%N) / 1000000)) > $T_TMP/reply.$src" &
		track_pid $!
	done
}
replied() { local src; for src in "$@"; do [ -s "$T_TMP/reply.$src" ] || return 1; done; }
replies_within() { # LIMIT_MS FROM_MS SRC...: every pinger got its reply within LIMIT of FROM
	local limit=$1 from=$2 src t last=0; shift 2
	wait_for 5 replied "$@" || { echo "no reply from all of: $*"; return 1; }
	for src in "$@"; do t=$(cat "$T_TMP/reply.$src"); [ "$t" -gt "$last" ] && last=$t; done
	echo "last reply $(( last - from )) ms after (limit $limit ms)"
	[ $(( last - from )) -le "$limit" ]
}
day_ms() { # HH:MM:SS.mmm -> ms since midnight
	local h m sec; IFS=: read -r h m sec <<< "$1"
	echo $(( (10#$h * 3600 + 10#$m * 60 + 10#${sec%.*}) * 1000 + 10#${sec#*.} ))
}
logged_within() { # N PATTERN LIMIT_MS FROM(HH:MM:SS.mmm): the agent logged PATTERN within LIMIT
	local line at
	wait_for 3 logged "$1" "$2" || { echo "never logged: $2"; return 1; }
	line=$(grep -m1 -- "$2" "$T_TMP/h$1.log")
	at=$(( $(day_ms "${line%% *}") - $(day_ms "$4") ))
	echo "logged $at ms after (limit $3 ms): $line"
	[ "$at" -le "$3" ]
}

sw=$(underlay_add)

# ---- three hosts converge ---------------------------------------------------
for n in 1 2 3; do host "$n"; done
agent 1
agent 2
agent 3 --teardown
all_ready() { wait_ready 1 1 && wait_ready 2 1 && wait_ready 3 1; }
check "three agents become ready" all_ready
check "subnet.env keeps the previous subnet" grep -qx 'FLANNEL_SUBNET=10.244.2.1/24' "$T_TMP/h2.env"
check "subnet.env has the device MTU" grep -qx 'FLANNEL_MTU=1450' "$T_TMP/h2.env"
for pair in "1 2" "1 3" "2 1" "2 3" "3 1" "3 2"; do
	set -- $pair
	check "pod $1 reaches pod $2" wait_for 3 ping1 "$1" "$2"
done
check "lease BackendData publishes VNI and VtepMAC" sh -c \
	"jq -e '.leases[\"10.244.1.0-24\"].BackendData == {\"VNI\":1,\"VtepMAC\":\"$(mac_of 1)\"}' '$T_TMP/leases.json'"
check "ovlctl status reports ready" ip netns exec "${HOST[1]}" "$OVLCTL" --store "$store" \
	--config "$conf" status --subnet-file "$T_TMP/h1.env" --node h1

# ---- join and leave ------------------------------------------------------------
host 4
ip -n "${HOST[4]}" route add default via 192.168.77.254
start_pingers 4 1 2 3
t0=$(now_ms)
agent 4 --auto --teardown
wait_ready 4 1
t_ready=$(( $(stat -c %.3Y "$T_TMP/h4.env" | tr -d .) ))
echo "    h4: agent start to ready (subnet.env written): $((t_ready - t0)) ms"
check "a joining host is reachable from all within 1 s of being ready" replies_within 1000 "$t_ready" 1 2 3
check "a joining host is reachable from all within 1.5 s of its agent's start" replies_within 1500 "$t0" 1 2 3
check "the joined host reaches all" reached_by 1 4
check "without --iface the default route's interface is the underlay" logged 4 "underlay eth0 (192.168.77.4), MTU 1500"
t0=$(now_ms)
kill -TERM "${AGENT[4]}"
left() { local n; for n in 1 2 3; do wait_for 1 not_routed "$n" 10.244.4.0/24 || return 1; done; within 1000 "$t0"; }
check "a leaving host's route is gone from all within 1 s" left
wait "${AGENT[4]}"
check "the leaver's lease is released" sh -c "! jq -e '.leases[\"10.244.4.0-24\"]' '$T_TMP/leases.json'"
check "the leaver's device is removed" sh -c "! ip -n '${HOST[4]}' link show flannel.1"
check "the leaver's subnet.env is removed" test ! -e "$T_TMP/h4.env"

# ---- bad records are skipped -----------------------------------------------------
exp=$(( $(date +%s) + 3600 ))
bad() { # KEY IP VNI MAC TYPE
	printf '"%s":{"PublicIP":"%s","BackendType":"%s","BackendData":{"VNI":%s,"VtepMAC":"%s"},"NodeName":"bad-%s","Expiration":%s}' \
		"$1" "$2" "$5" "$3" "$4" "${1%%-*}" "$exp"
}
records="{$(bad 10.245.9.0-24 192.168.77.50 1 0e:00:00:00:00:01 vxlan),\
$(bad 10.244.1.128-25 192.168.77.51 2 0e:00:00:00:00:02 vxlan),\
$(bad 10.244.11.0-24 192.168.77.52 1 01:00:5e:00:00:01 vxlan),\
$(bad 10.244.12.0-24 127.0.0.1 1 0e:00:00:00:00:04 vxlan),\
$(bad 10.244.13.0-24 192.168.77.54 7 0e:00:00:00:00:05 vxlan),\
$(bad 10.244.14.0-24 192.168.77.55 1 00:00:00:00:00:00 vxlan)}"
flock "$T_TMP/leases.json.lock" sh -c "jq -c --argjson bad '$records' '.revision += 1 | .leases += \$bad' '$T_TMP/leases.json' > '$T_TMP/edit.json' && mv '$T_TMP/edit.json' '$T_TMP/leases.json'"
skipped() { for k in 10.245.9.0-24 10.244.1.128-25 10.244.11.0-24 10.244.12.0-24 10.244.13.0-24 10.244.14.0-24; do logged "$1" "skipping lease $k" || return 1; done; }
check "every bad record is skipped with a log line naming its key (h2)" wait_for 2 skipped 2
check "every bad record is skipped with a log line naming its key (h1)" wait_for 2 skipped 1
check "the reason names the problem: outside the network" logged 2 "10.245.9.0-24: subnet 10.245.9.0/24 is outside the network"
check "the reason names the problem: our own subnet" logged 1 "10.244.1.128-25: subnet 10.244.1.128/25 overlaps ours"
check "the reason names the problem: bad MAC" logged 2 "10.244.11.0-24: VtepMAC '01:00:5e:00:00:01' is not a unicast MAC"
check "the reason names the problem: zero MAC" logged 2 "10.244.14.0-24: VtepMAC '00:00:00:00:00:00' is not a unicast MAC"
check "the reason names the problem: bad address" logged 2 "10.244.12.0-24: public IP 127.0.0.1 is loopback"
check "the reason names the problem: other VNI" logged 2 "10.244.13.0-24: VNI 7, want 1"
check "no bad record is routed" sh -c "! ip -n '${HOST[2]}' route | grep -E '10\\.245\\.9|10\\.244\\.1\\.128|10\\.244\\.1[1-4]\\.'"
check "the overlay still works beside bad records" ping1 2 1
flock "$T_TMP/leases.json.lock" sh -c "jq -c '.revision += 1 | .leases |= with_entries(select(.value.NodeName | startswith(\"bad-\") | not))' '$T_TMP/leases.json' > '$T_TMP/edit.json' && mv '$T_TMP/edit.json' '$T_TMP/leases.json'"

# ---- the device deleted or flapped under a running agent ---------------------------
mac1=$(mac_of 1)
t_del=$(date +%H:%M:%S.%3N)
ip -n "${HOST[1]}" link del flannel.1
check "a deleted device is recreated, peers replayed, within 1 s" \
	logged_within 1 "flannel.1 deleted: brought back with MAC $mac1" 1000 "$t_del"
check "the recreated device keeps its MAC" test "$(mac_of 1)" = "$mac1"
check "after the recreation pods reach across again" reached_by 1 2 3
check "after the recreation pods reach out again" reached_by 2 1
t_flap=$(date +%H:%M:%S.%3N)
ip -n "${HOST[1]}" link set flannel.1 down && ip -n "${HOST[1]}" link set flannel.1 up
check "a flapped device gets its routes back within 1 s" \
	logged_within 1 "flannel.1 set down: brought back" 1000 "$t_flap"
check "after the flap pods reach across again" reached_by 2 1

# ---- restart: subnet and MAC kept, a host gone meanwhile removed, no loss ------------
mac1=$(mac_of 1)
ip netns exec "${POD[2]}" ping -i 0.05 -w 6 -q 10.244.1.2 > "$T_TMP/ping.out" 2>&1 &
pinger=$!
track_pid "$pinger"
sleep 0.5
stop_agent 1
check "a default stop keeps the device" ip -n "${HOST[1]}" link show flannel.1
check "a default stop keeps subnet.env" test -s "$T_TMP/h1.env"
stop_agent 3	# --teardown: h3 leaves while h1 is down
check "h1, down, still has h3's stale route" routed 1 10.244.3.0/24
agent 1
check "the restarted agent is ready" wait_ready 1 2
check "restart keeps the subnet" grep -qx 'FLANNEL_SUBNET=10.244.1.1/24' "$T_TMP/h1.env"
check "restart keeps the VTEP MAC" test "$(mac_of 1)" = "$mac1"
check "restart keeps the published MAC" sh -c "jq -e '.leases[\"10.244.1.0-24\"].BackendData.VtepMAC == \"$mac1\"' '$T_TMP/leases.json'"
check "restart removes the host that left meanwhile" not_routed 1 10.244.3.0/24
check "restart names the stale host it removed" logged 1 "stale peer 10.244.3.0/24 via 192.168.77.3 removed"
check "restart removes the stale neighbour too" sh -c "! ip -n '${HOST[1]}' neigh show 10.244.3.0 | grep -q ."
wait "$pinger"
sent=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1/p' "$T_TMP/ping.out")
got=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$T_TMP/ping.out")
check "a ping across the restart loses at most one packet ($got of $sent)" test "$(( ${sent:-0} - ${got:-0} ))" -le 1 -a "${sent:-0}" -gt 50

# ---- the lease stolen after expiry ---------------------------------------------------
stop_agent 1
agent 1 --ttl 3 --resync 2
wait_ready 1 3
kill -STOP "${AGENT[1]}"
sleep 4	# the 3 s lease expires while the agent is frozen
steal=$(ctl lease acquire --node thief --public-ip 192.168.77.99 --subnet 10.244.1.0/24 \
	--backend-data '{"VNI":1,"VtepMAC":"0e:00:00:00:00:99"}' 2>&1)
echo "$steal" | sed 's/^/    thief: /'
kill -CONT "${AGENT[1]}"
check "the agent notices the stolen lease and reports it" wait_for 3 logged 1 "lease 10.244.1.0-24 lost"
check "the agent re-acquires another subnet" wait_for 3 sh -c "! grep -qx 'FLANNEL_SUBNET=10.244.1.1/24' '$T_TMP/h1.env'"
no_old_address() { ! ip -n "${HOST[1]}" addr show flannel.1 | grep -q '10.244.1.0/32'; }
check "the device gives up the stolen subnet's address" wait_for 2 no_old_address
check "the stolen subnet is routed to its new owner" wait_for 2 sh -c \
	"ip -n '${HOST[1]}' neigh show 10.244.1.0 | grep -q 0e:00:00:00:00:99"
check "h2 routes the stolen subnet to the thief" wait_for 2 sh -c \
	"ip -n '${HOST[2]}' neigh show 10.244.1.0 | grep -q 0e:00:00:00:00:99"
newsub=$(sed -n 's/^FLANNEL_SUBNET=\(.*\)\.1\/24$/\1.0\/24/p' "$T_TMP/h1.env")
check "h2 routes h1's new subnet ($newsub) to h1" wait_for 2 routed 2 "$newsub"

if [ "$T_FAILED" -gt 0 ]; then
	for n in 1 2 3 4; do echo "--- h$n agent log"; cat "$T_TMP/h$n.log"; done
fi
t_finish
