#!/bin/bash
# peers.sh - installing and removing N flannel peers (neighbour + fdb +
# route each): libovl's ovl_peer_sync against `ip -batch` + `bridge -batch`
# doing flannel-style entries, in the same run, in a scratch network
# namespace.  Prints wall clock and CPU time (user + system, where the
# kernel's work is accounted; a busy machine distorts it less) of both, the
# ratios, and libovl's peak RSS; then the CPU of syncing the unchanged set
# again (an agent's periodic resync, without its cold caches).
#   bench/peers.sh [N...]      (default: 1000 10000; OVL_BUILD=build dir)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${OVL_BUILD:-$TOP/build}
BENCH=$BUILD/bench/bench-peers
export LD_LIBRARY_PATH="$BUILD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
NS="ovlbench$$"
TMP=$(mktemp -d /tmp/ovl-bench.XXXXXX)
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM

[ -x "$BENCH" ] || { echo "peers.sh: build $BENCH first (make bench/bench-peers)" >&2; exit 1; }
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip -n "$NS" link add ul0 type veth peer name ul1
ip -n "$NS" addr add 192.168.0.1/16 dev ul0
ip -n "$NS" link set ul0 up
ip -n "$NS" link set ul1 up

# timed VAR COMMAND...: VAR_WALL and VAR_CPU in ms.
timed() {
	local var=$1 r u s; shift
	TIMEFORMAT='%R %U %S'
	{ time "$@" 2>"$TMP/err"; } 2>"$TMP/time" || { cat "$TMP/err" >&2; return 1; }
	read -r r u s <"$TMP/time"
	printf -v "${var}_WALL" '%.0f' "$(echo "$r * 1000" | bc)"
	printf -v "${var}_CPU" '%.0f' "$(echo "($u + $s) * 1000" | bc)"
}
add_entries() { ip -n "$NS" -batch "$TMP/neigh" && bridge -n "$NS" -batch "$TMP/fdb" && ip -n "$NS" -batch "$TMP/route"; }
del_entries() { ip -n "$NS" -batch "$TMP/route-del" && ip -n "$NS" -batch "$TMP/neigh-del" && bridge -n "$NS" -batch "$TMP/fdb-del"; }
count() { ip -n "$NS" -j route show dev vx0 | jq length; }

# The same entries as bench-peers.c, written the way flannel programs them.
baseline() {
	local n=$1 i hi lo
	for ((i = 1; i <= n; i++)); do
		hi=$((i >> 8)); lo=$((i & 255))
		printf 'neigh replace 10.%d.%d.0 lladdr 0e:00:00:00:%02x:%02x dev vx0 nud permanent\n' $hi $lo $hi $lo >&3
		printf 'fdb replace 0e:00:00:00:%02x:%02x dev vx0 dst 172.16.%d.%d self permanent\n' $hi $lo $hi $lo >&4
		printf 'route replace 10.%d.%d.0/24 via 10.%d.%d.0 dev vx0 onlink\n' $hi $lo $hi $lo >&5
		printf 'route del 10.%d.%d.0/24 dev vx0\n' $hi $lo >&6
		printf 'neigh del 10.%d.%d.0 dev vx0\n' $hi $lo >&7
		printf 'fdb del 0e:00:00:00:%02x:%02x dev vx0 dst 172.16.%d.%d self\n' $hi $lo $hi $lo >&8
	done 3>"$TMP/neigh" 4>"$TMP/fdb" 5>"$TMP/route" 6>"$TMP/route-del" 7>"$TMP/neigh-del" 8>"$TMP/fdb-del"
	ip -n "$NS" link add vx0 type vxlan id 1 local 192.168.0.1 dev ul0 dstport 8472 nolearning
	ip -n "$NS" addr add 10.0.0.0/32 dev vx0
	ip -n "$NS" link set vx0 up
	timed ADD add_entries || return 1
	BASE_INSTALLED=$(count)
	timed DEL del_entries || return 1
	ip -n "$NS" link del vx0
}

field() { sed "s/.* $1=\([0-9.]*\).*/\1/" <<<"$2"; }
ratio() { echo "scale=1; $1 / $2" | bc; }
printf '%-6s %-8s %-24s %-24s %-16s %s\n' N time "libovl add / del ms" "ip -batch add / del ms" "speedup add/del" "libovl peak RSS"
for n in ${*:-1000 10000}; do
	line=$(ip netns exec "$NS" "$BENCH" "$n" 192.168.0.1) || { echo "bench-peers failed" >&2; exit 1; }
	baseline "$n" || { echo "baseline failed" >&2; exit 1; }
	[ "$(field installed "$line")" = "$n" ] && [ "$BASE_INSTALLED" = "$n" ] ||
		{ echo "peers.sh: installed $(field installed "$line") (libovl) / $BASE_INSTALLED (ip), want $n" >&2; exit 1; }
	for kind in wall cpu; do
		if [ $kind = wall ]; then
			a=$(field add_ms "$line"); d=$(field del_ms "$line"); ba=$ADD_WALL; bd=$DEL_WALL
		else
			a=$(field add_cpu_ms "$line"); d=$(field del_cpu_ms "$line"); ba=$ADD_CPU; bd=$DEL_CPU
		fi
		printf '%-6s %-8s %-24s %-24s %-16s %s\n' "$n" $kind "$a / $d" "$ba / $bd" \
			"$(ratio "$ba" "$a")x / $(ratio "$bd" "$d")x" "$(field rss_kb "$line") KiB"
	done
	printf '%-6s resync of the unchanged set (one link handle, caches warm): %s ms CPU\n' \
		"$n" "$(field resync_cpu_ms "$line")"
done
