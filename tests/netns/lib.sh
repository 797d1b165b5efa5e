# lib.sh - sourced by every tests/netns/test-*.sh: unique namespaces that are
# removed on every exit path, processes stopped by PID, a small assertion
# helper, and the TESTS: line tests/run-all.sh counts.
#
# Safety: everything happens inside namespaces created here; the root
# namespace's links, addresses and routes are never touched.
set -u
OVL_TOP=${OVL_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OVL_BUILD=${OVL_BUILD:-$OVL_TOP/build}
OVLCTL=${OVLCTL:-$OVL_BUILD/ovlctl}
export LD_LIBRARY_PATH="$OVL_BUILD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Short unique prefix: namespace and link names stay under 15 characters.
T_ID=$(printf '%04x' $(( ($$ + RANDOM) % 65536 )))
T_PREFIX="ot$T_ID"
T_NAMESPACES=()
T_PIDS=()
T_TMP=$(mktemp -d /tmp/ovl-test.XXXXXX)
T_PASSED=0
T_FAILED=0

# Our namespaces are found by their unique prefix, not only by T_NAMESPACES:
# ns_add usually runs inside $(...), whose additions to the array are lost.
t_namespaces() {
	{ printf '%s\n' "${T_NAMESPACES[@]}"; ip netns list 2>/dev/null | awk '{print $1}' | grep "^$T_PREFIX-"; } | sort -u | grep .
}
# Stops what the test started: the PIDs it tracked and every process still
# running inside its own namespaces (all of them were started by the test).
t_cleanup() {
	local pid ns pids
	pids="${T_PIDS[*]}"
	for ns in $(t_namespaces); do pids="$pids $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"; done
	for pid in $pids; do kill "$pid" 2>/dev/null; done
	for pid in $pids; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	for ns in $(t_namespaces); do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T_TMP"
}
t_finish() {
	echo "TESTS: $T_PASSED $T_FAILED"
	t_cleanup
	[ "$T_FAILED" -eq 0 ]
}
trap 't_cleanup; trap - EXIT; exit 143' INT TERM
trap 't_cleanup' EXIT

# ns_add SHORT: creates namespace $T_PREFIX-SHORT with lo up; prints its name.
ns_add() {
	local ns="$T_PREFIX-$1"
	ip netns add "$ns" || return 1
	T_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
	echo "$ns"
}
# Record a background process started by the test so cleanup stops it.
track_pid() { T_PIDS+=("$1"); }

# check NAME COMMAND...: runs the command, counts and reports the result.
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then
		T_PASSED=$((T_PASSED + 1)); echo "PASS: $name"
	else
		T_FAILED=$((T_FAILED + 1)); echo "FAIL: $name"; printf '%s\n' "$out" | tail -20 | sed 's/^/    /'
	fi
}
# check_fails NAME COMMAND...: passes when the command fails.
check_fails() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then
		T_FAILED=$((T_FAILED + 1)); echo "FAIL: $name (unexpectedly succeeded)"; printf '%s\n' "$out" | tail -5 | sed 's/^/    /'
	else
		T_PASSED=$((T_PASSED + 1)); echo "PASS: $name"
	fi
}
# wait_for SECONDS COMMAND...: polls every 50 ms until the command succeeds.
wait_for() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -gt "$deadline" ] && return 1
		sleep 0.05
	done
}

# underlay_add: a switch namespace with bridge br0; prints its name.
underlay_add() {
	local sw
	sw=$(ns_add sw) || return 1
	ip -n "$sw" link add br0 type bridge && ip -n "$sw" link set br0 up
	echo "$sw"
}
# host_add SWITCH SHORT ADDRESS/LEN: a host namespace whose eth0 is plugged
# into the switch, with forwarding on; prints its name.
host_add() {
	local sw=$1 short=$2 addr=$3 h
	h=$(ns_add "$short") || return 1
	ip link add eth0 netns "$h" type veth peer name "$short" netns "$sw" || return 1
	ip -n "$sw" link set "$short" master br0 up
	ip -n "$h" addr add "$addr" dev eth0
	ip -n "$h" link set eth0 up
	ip netns exec "$h" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$h" sysctl -qw net.ipv6.conf.all.forwarding=1 2>/dev/null
	echo "$h"
}
# pod_add HOST SHORT ADDRESS/LEN GATEWAY [MTU]: a pod namespace behind a
# bridge cni0 in HOST (cni0 gets GATEWAY); prints the pod namespace's name.
pod_add() {
	local h=$1 short=$2 addr=$3 gw=$4 mtu=${5:-1450} p len
	p=$(ns_add "$short") || return 1
	len=${addr#*/}
	if ! ip -n "$h" link show cni0 >/dev/null 2>&1; then
		ip -n "$h" link add cni0 mtu "$mtu" type bridge
		ip -n "$h" addr add "$gw/$len" dev cni0
		ip -n "$h" link set cni0 up
	fi
	ip -n "$h" link add "v$short" mtu "$mtu" type veth peer name eth0 netns "$p" mtu "$mtu"
	ip -n "$h" link set "v$short" master cni0 up
	ip -n "$p" addr add "$addr" dev eth0
	ip -n "$p" link set eth0 up
	ip -n "$p" route add default via "$gw"
	echo "$p"
}
# man_example PAGE OUT: writes the program of the man page's EXAMPLE section
# (the lines between .nf and .fi, with roff's \e and \- undone) to OUT.
man_example() {
	sed -n '/^\.SH EXAMPLE/,/^\.SH /{/^\.nf/,/^\.fi/p}' "$1" |
		sed -e '/^\.nf$/d' -e '/^\.fi$/d' -e 's/\\e/\\/g' -e 's/\\-/-/g' > "$2"
}
# Runs ovlctl in a namespace.
ovlctl_in() { local ns=$1; shift; ip netns exec "$ns" "$OVLCTL" "$@"; }
# ovlctl_bg NS LOG ARGS...: starts ovlctl in the background in NS with its
# output in LOG; sets BG_PID to ovlctl's own PID (not a subshell's) and
# tracks it for cleanup.  Call it directly, not inside $(...).
ovlctl_bg() {
	local ns=$1 log=$2; shift 2
	ip netns exec "$ns" "$OVLCTL" "$@" > "$log" 2>&1 &
	BG_PID=$!
	track_pid "$BG_PID"
}
# node_host SWITCH NAME UNDERLAY/LEN OCTET: an agent's host NAME with a pod
# 10.244.OCTET.2 behind cni0, and $T_TMP/NAME.env pre-written so that the
# agent takes 10.244.OCTET.0/24 and the pod can exist before the agent runs.
# Prints "HOST-NAMESPACE POD-NAMESPACE".
node_host() {
	local sw=$1 name=$2 addr=$3 octet=$4 h p
	h=$(host_add "$sw" "$name" "$addr") || return 1
	p=$(pod_add "$h" "p${name#h}" "10.244.$octet.2/24" "10.244.$octet.1") || return 1
	printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%s.1/24\nFLANNEL_MTU=1450\n' \
		"$octet" > "$T_TMP/$name.env"
	echo "$h $p"
}
# peers_file ME M...: writes host ME's peer file for `ovlctl peer sync` and
# the udp loop's --peers, $T_TMP/peers-ME.json (atomically: a running loop
# may be watching it), listing hosts M... but ME, host m as
# $PEERS_NET.m.0/24 at $PEERS_UNDERLAY.1m with ${MAC[m]} where the test has
# such an array; prints its path.
peers_file() {
	local me=$1 f="$T_TMP/peers-$1.json" m sep= mac; shift
	{
		echo "["
		for m in "$@"; do
			[ "$m" = "$me" ] && continue
			mac=${MAC[$m]:-}
			echo "$sep{\"subnet\":\"$PEERS_NET.$m.0/24\",\"public_ip\":\"$PEERS_UNDERLAY.1$m\"${mac:+,\"mac\":\"$mac\"}}"
			sep=,
		done
		echo "]"
	} >"$f.tmp" && mv "$f.tmp" "$f" && echo "$f"
}
# wait_all PID...: waits for each and sets FAILED to how many failed.  Call
# it directly, not inside $(...): a subshell cannot wait for our children.
wait_all() {
	local pid
	FAILED=0
	for pid in "$@"; do wait "$pid" || FAILED=$((FAILED + 1)); done
}
# reached_by DST SRC...: every pod POD[SRC] reaches pod DST (10.244.DST.2,
# or $ADDR), pinging until it answers (ICMP errors while routes converge)
# for at most $REACH_SECONDS (3) with $REACH_WAIT (0.2) seconds per try.
reached_by() {
	local dst=$1 src; shift
	for src in "$@"; do
		ip netns exec "${POD[$src]}" timeout "${REACH_SECONDS:-3}" sh -c \
			"until ping -q -c1 -W${REACH_WAIT:-0.2} ${ADDR:-10.244.$dst.2} >/dev/null 2>&1; do :; done" || return 1
	done
}
# mesh N...: every pod POD[N] reaches every other; mesh6 the same over the
# pods' IPv6 addresses fd44:0:0:N::2.
mesh() { local d; for d in "$@"; do reached_by "$d" "$@" || return 1; done; }
mesh6() { local d; for d in "$@"; do ADDR="fd44:0:0:$d::2" reached_by "$d" "$@" || return 1; done; }
# Agents (`ovlctl run`) whose PIDs are AGENT[N] and logs $T_TMP/hN.log:
# ready_at_least N COUNT: hN logged "ready" COUNT times; all_ready N...:
# each at least $COUNT (1) times within $READY_SECONDS (10); stop_agent N.
ready_at_least() { [ "$(grep -c 'notice: ready' "$T_TMP/h$1.log")" -ge "$2" ]; }
all_ready() { local n; for n in "$@"; do wait_for "${READY_SECONDS:-10}" ready_at_least "$n" "${COUNT:-1}" || return 1; done; }
stop_agent() { kill -TERM "${AGENT[$1]}" && wait "${AGENT[$1]}"; }
