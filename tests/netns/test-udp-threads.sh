#!/bin/bash
# test-udp-threads.sh - the UDP backend's threading rule on the real kernel:
# tests/tools/udp-threads runs the loop (ovl_udp_run, then ovl_link_dispatch)
# on a thread of its own while its main thread adds, removes and syncs peers
# (and fails on purpose) and a third thread sends packets both ways and
# reads the counters, in a host namespace of the test's own; the host's
# second address plays the first peer.  run-all.sh runs it again with
# OVL_BUILD=build-tsan, where the library and the program are built with
# ThreadSanitizer: any report there fails the test.
source "$(dirname "$0")/lib.sh"

TOOL="$OVL_BUILD/tests/tools/udp-threads"
[ -x "$OVL_BUILD/tests/tools/.libs/udp-threads" ] && TOOL="$OVL_BUILD/tests/tools/.libs/udp-threads"
SW=$(underlay_add)
HOST=$(host_add "$SW" h1 192.168.89.11/24)
ip -n "$HOST" addr add 192.168.89.20/24 dev eth0
# halt_on_error: a race ends the run with TSan's exit code at once.
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" \
	ip netns exec "$HOST" "$TOOL" 192.168.89.11 192.168.89.20 2 >"$T_TMP/out" 2>&1
rc=$?
# its PASS/FAIL lines count here; its own TESTS: line would count twice
grep -v '^TESTS: ' "$T_TMP/out"
T_PASSED=$(grep -c '^PASS: ' "$T_TMP/out")
T_FAILED=$(grep -c '^FAIL: ' "$T_TMP/out")
check "udp-threads exited cleanly (status $rc; 66 is a ThreadSanitizer report)" test "$rc" -eq 0
check "no ThreadSanitizer report" bash -c "! grep -q 'WARNING: ThreadSanitizer' '$T_TMP/out'"
t_finish
