#!/bin/bash
# test-dispatch.sh - the embedding contract of issue 15: a host that links
# libovl never stalls.  bench/dispatch.sh's phases, shorter (each fault
# 3-4 s): bench/dispatch-probe embeds an ovl_node on h1 and times every
# ovl_node_dispatch() while etcd is frozen (SIGSTOP), killed and restarted,
# while h1's underlay link flaps, while a 3-member cluster loses its leader,
# while another process holds the file store's lock, and on the kube store
# while a real kube-apiserver is frozen (SIGSTOP) and restarted.  In every phase:
# no single dispatch takes 50 ms (the benchmark's goal is 5 ms; the margin
# keeps a loaded CI machine from failing it), the loop wakes fewer than 50
# times a second while the fault lasts (no busy loop), the node is ready
# with its lease held within 5 s of the fault's end, the pods keep pinging
# (the link flap excepted) and reach each other at the phase's end, and
# the store lists the node's lease.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-etcd.sh"
. "$(dirname "$0")/lib-dispatch.sh"
. "$(dirname "$0")/lib-kube.sh"
[ -x "$PROBE" ] || { echo "FAIL: $PROBE missing (make bench/dispatch-probe)"; T_FAILED=1; t_finish; exit 1; }

NORMAL_SECONDS=3
FROZEN_SECONDS=4
DOWN_SECONDS=3
LOCK_SECONDS=3
FLAPS=2
RECOVERY_SECONDS=8
BOUND_MS=50

# Not inside check: the runs set variables and start processes this shell
# must keep (check runs its command in a subshell).
dispatch_setup; check "namespaces: a switch, h1 (the probe) and h2 (ovlctl run), a pod each" test $? -eq 0
run_etcd phase_normal_etcd phase_etcd_frozen phase_etcd_restart phase_link_flap
check "run on one etcd member: normal, etcd frozen, etcd restarted, link flap" test $? -eq 0
run_cluster phase_leader_loss
check "run on a 3-member etcd cluster: its leader killed" test $? -eq 0
run_file phase_normal_file phase_lock_held
check "run on a file store: its lock held by another process" test $? -eq 0
run_kube phase_normal_kube phase_apiserver_frozen phase_apiserver_restart
check "run on the kube store: the apiserver frozen, then restarted" test $? -eq 0

below() { awk -v v="$1" -v bound="$2" 'BEGIN { exit !(v != "" && v + 0 < bound) }'; }
at_most() { awk -v v="$1" -v bound="$2" 'BEGIN { exit !(v ~ /^[0-9]+$/ && v + 0 <= bound) }'; }
for phase in normal etcd-frozen etcd-restart link-flap leader-loss normal-file lock-held \
	normal-kube apiserver-frozen apiserver-restart; do
	v() { phase_value "$phase" "$1"; }
	if [ -z "$(v dispatches)" ]; then
		check "$phase: the probe reported the phase" false
		continue
	fi
	echo "    $phase: $(v dispatches) dispatches, worst $(v worst_ms) ms, p99 $(v p99_ms) ms," \
		"$(v wakeups_per_s) wake-ups/s, recovery $(v recovery_ms) ms, pings lost $(v pings_lost)/$(v pings_sent)"
	check "$phase: no dispatch took $BOUND_MS ms (worst $(v worst_ms) ms)" below "$(v worst_ms)" "$BOUND_MS"
	check "$phase: fewer than 50 wake-ups/s ($(v wakeups_per_s))" below "$(v wakeups_per_s)" 50
	case $phase in
	normal*) ;;
	*) check "$phase: ready with the lease held within 5 s of the fault's end ($(v recovery_ms) ms)" \
		at_most "$(v recovery_ms)" 5000 ;;
	esac
	# The last ping may be in flight when the phase ends.
	[ "$phase" = link-flap ] ||
		check "$phase: the pods kept pinging (lost $(v pings_lost) of $(v pings_sent))" at_most "$(v pings_lost)" 1
	check "$phase: the pods reach each other at the phase's end" test "$(v reached_at_end)" = yes
	check "$phase: the store lists h1's lease at the phase's end" test "$(v lease_listed)" = yes
done

if [ "$T_FAILED" -gt 0 ] || [ -n "${OVL_SHOW_LOGS:-}" ]; then
	echo "--- dispatches of 5 ms or more"; grep 'one dispatch took' "$T_TMP/probe.log"
	echo "--- phases"; cat "$T_TMP/phases.txt"
	echo "--- the node's last error at each phase's end"; grep . "$T_TMP"/error-*.txt
fi
t_finish
