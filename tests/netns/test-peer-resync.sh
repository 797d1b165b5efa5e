#!/bin/bash
# test-peer-resync.sh - one link handle synced again and again (the agent's
# resyncs): a repeated sync of the same peers sends nothing, repairs what
# was changed behind its back (its cached plans and guesses from the last
# dumps' order notwithstanding), follows a reordered list, a changed MAC, a
# removed peer and a flapped device, and removes everything on an empty
# list.  A sync after a clean one checks the routes without reading the
# nexthops; anything amiss in them (a nexthop moved, a route gone, a kernel
# hiding the nexthops from route dumps) reads them again, and every tenth
# sync does anyway (a nexthop of ours that no route uses).
# tests/tools/peer-resync holds the handle.
source "$(dirname "$0")/lib.sh"

TOOL="$OVL_BUILD/tests/tools/peer-resync"
[ -x "$OVL_BUILD/tests/tools/.libs/peer-resync" ] && TOOL="$OVL_BUILD/tests/tools/.libs/peer-resync"
SW=$(underlay_add)
H=$(host_add "$SW" h1 192.168.77.11/24)
ours() {	# routes, nexthops, neighbours and fdb entries libovl made, each sorted
	local sorted='sort_by(tostring)'
	ip -n "$H" -j route show proto 111 | jq -c "$sorted"
	ip -n "$H" -j nexthop show | jq -c "$sorted"
	ip -n "$H" -j neigh show dev flannel.1 nud permanent | jq -c "$sorted"
	bridge -n "$H" -j fdb show dev flannel.1 | jq -c "$sorted"
}
count() { "$@" | jq length; }
entries() {	# routes nexthops neighbours fdb-entries
	echo "$(count ip -n "$H" -j route show proto 111) $(count ip -n "$H" -j nexthop show)" \
		"$(count ip -n "$H" -j neigh show dev flannel.1 nud permanent)" \
		"$(count bridge -n "$H" -j fdb show dev flannel.1)"
}

check "vxlan up" ovlctl_in "$H" vxlan up --local 192.168.77.11 --subnet 10.244.1.0/24 \
	--network 10.244.0.0/16
coproc SYNC { ip netns exec "$H" "$TOOL" flannel.1 2>&1; }
track_pid "$SYNC_PID"
# sync_is ANSWER PEERS...: one sync by the long-lived handle answers ANSWER.
sync_is() {
	local want=$1 got; shift
	echo "sync $*" >&"${SYNC[1]}"
	read -r -t 30 got <&"${SYNC[0]}" || { echo "no answer"; return 1; }
	echo "$got"
	[ "$got" = "$want" ]
}
# sync_sends PEERS...: a sync that succeeds sending at least one request.
# how_is ANSWER: what the last sync read.
how_is() {
	local got
	echo how >&"${SYNC[1]}"
	read -r -t 30 got <&"${SYNC[0]}" || { echo "no answer"; return 1; }
	echo "$got"
	[ "$got" = "$1" ]
}
# nexthop_of SUBNET: the id and gateway of the nexthop the subnet's route uses.
nexthop_of() {
	local id
	id=$(ip -n "$H" -j route show "$1" proto 111 | jq -r '.[0].nhid // empty')
	[ -n "$id" ] && echo "$id $(ip -n "$H" -j nexthop show id "$id" | jq -r '.[0].gateway')"
}
sync_sends() {
	local got
	echo "sync $*" >&"${SYNC[1]}"
	read -r -t 30 got <&"${SYNC[0]}" || { echo "no answer"; return 1; }
	echo "$got"
	[[ $got == "ok "[1-9]* ]]
}

check "first sync of peers 2 3 4: 12 requests" sync_is "ok 12" 2 3 4
check "...3 of each entry" test "$(entries)" = "3 3 3 3"
ours >"$T_TMP/synced"
check "...reading the nexthops" how_is "nexthops read"
check "the same sync again sends nothing" sync_is "ok 0" 2 3 4
check "...checking the routes alone" how_is "routes checked alone"
check "and a third time" sync_is "ok 0" 2 3 4

# A nexthop moved to another gateway behind the handle's back shows in
# its route: the sync reads the nexthops and puts it back in place.
read -r id _ <<<"$(nexthop_of 10.244.2.0/24)"
ip -n "$H" nexthop replace id "$id" via 10.244.99.0 dev flannel.1 onlink proto 111
check "a nexthop moved: the sync replaces it (1 request)" sync_is "ok 1" 2 3 4
check "...having read the nexthops" how_is "nexthops read"
check "...the route goes via 10.244.2.0 again, the same nexthop id" \
	test "$(nexthop_of 10.244.2.0/24)" = "$id 10.244.2.0"
check "...and the next sync sends nothing" sync_is "ok 0" 2 3 4
check "...(routes alone)" how_is "routes checked alone"

# A nexthop of ours that no route uses shows in no route dump: a sync that
# reads the nexthops (every tenth) removes it.
ip -n "$H" nexthop add id 78 via 10.244.8.0 dev flannel.1 onlink proto 111
# orphan_sync: the number of the sync that removed it (ok 1, nexthops read).
orphan_sync() {
	local i got
	for i in $(seq 10); do
		got=$(sync_is "ok 0" 2 3 4) && continue
		[ "$got" = "ok 1" ] && how_is "nexthops read" >/dev/null &&
			! ip -n "$H" nexthop show id 78 >/dev/null 2>&1 && { echo "$i"; return 0; }
		echo "sync $i: $got"
		return 1
	done
	echo "still there after 10 syncs"
	return 1
}
check "an unused nexthop of ours goes within ten syncs" orphan_sync
ours >"$T_TMP/after-orphan"
check "...and the state is the first sync's" diff "$T_TMP/synced" "$T_TMP/after-orphan"

# A kernel that leaves nexthops out of route dumps: every sync reads them.
ip netns exec "$H" sysctl -qw net.ipv4.nexthop_compat_mode=0
check "nexthop_compat_mode 0: the sync sends nothing" sync_is "ok 0" 2 3 4
check "...and reads the nexthops" how_is "nexthops read"
check "...so does the next" sync_is "ok 0" 2 3 4
check "...(nexthops read)" how_is "nexthops read"
ip -n "$H" route del 10.244.2.0/24
check "...a route gone is still put back" sync_is "ok 1" 2 3 4
ip netns exec "$H" sysctl -qw net.ipv4.nexthop_compat_mode=1

# Changed behind the handle's back: a neighbour, a route, an fdb entry gone
# or wrong, and a nexthop and route of ours that no peer wants.
ip -n "$H" neigh del 10.244.3.0 dev flannel.1
ip -n "$H" route del 10.244.4.0/24
bridge -n "$H" fdb del 0e:00:00:00:00:02 dev flannel.1 dst 192.168.77.12 self
bridge -n "$H" fdb append 0e:00:00:00:00:02 dev flannel.1 dst 192.168.77.99 self permanent
ip -n "$H" nexthop add id 77 via 10.244.9.0 dev flannel.1 onlink proto 111
ip -n "$H" route add 10.244.9.0/24 nhid 77 proto 111
check "the repeated sync repairs: 6 requests" sync_is "ok 6" 2 3 4
ours >"$T_TMP/repaired"
check "...to the state of the first sync" diff "$T_TMP/synced" "$T_TMP/repaired"
check "...and then sends nothing again" sync_is "ok 0" 2 3 4

check "the same peers in another order send nothing" sync_is "ok 0" 4 2 3
check "...again in that order" sync_is "ok 0" 4 2 3
check "peer 3 with another MAC: its neighbour, fdb entry, old fdb entry" \
	sync_is "ok 3" 4 2 3:33
check "...the neighbour and fdb entry have the new MAC, the old one is gone" bash -c "
	ip -n $H neigh show 10.244.3.0 dev flannel.1 | grep -q 0e:00:00:00:00:33 &&
	bridge -n $H fdb show dev flannel.1 | grep -q '0e:00:00:00:00:33 dst 192.168.77.13' &&
	! bridge -n $H fdb show dev flannel.1 | grep -q 0e:00:00:00:00:03"
check "peer 4 leaves: its 4 entries go" sync_is "ok 4" 2 3:33
check "...2 of each entry" test "$(entries)" = "2 2 2 2"
ours >"$T_TMP/two"
ip -n "$H" link set flannel.1 down
ip -n "$H" link set flannel.1 up
check "after a flap the sync sends what the flap took" sync_sends 2 3:33
ours >"$T_TMP/restored"
check "...as they were" diff "$T_TMP/two" "$T_TMP/restored"
check "an empty sync removes every entry" sync_is "ok 8"
check "...none left" test "$(entries)" = "0 0 0 0"
check "overlapping peers are refused" sync_is "error peers 10.244.2.0/24 and 10.244.2.0/24 overlap" 2 2
pid=$SYNC_PID
eval "exec ${SYNC[1]}>&-"
wait "$pid"
check "the handle closed cleanly" test $? -eq 0
t_finish
