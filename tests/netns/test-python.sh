#!/bin/bash
# test-python.sh - runs tests/python/test_ovl.py (the ctypes binding) against
# two hosts with a pod each, made here in network namespaces.
source "$(dirname "$0")/lib.sh"

sw=$(underlay_add)
H1=$(host_add "$sw" h1 192.168.77.11/24)
H2=$(host_add "$sw" h2 192.168.77.12/24)
# The pods' addresses depend on the leases, which Python takes: the script
# acquires them first, so give the pods their addresses from its output.
export H1 H2 T_TMP OVL_TOP
export OVL_LIBRARY=$(ls "$OVL_BUILD"/.libs/libovl.so.0 2>/dev/null)

# A first Python run takes the leases so the pods can be placed in them.
read -r s1 s2 < <(python3 - <<PY
import os, sys
sys.path.insert(0, os.path.join(os.environ["OVL_TOP"], "examples", "python"))
import ovl
ctx = ovl.Context()
cfg = ctx.config_parse('{"Network": "10.244.0.0/16"}')
store = ctx.store_open("file:$T_TMP/leases.json")
a = store.lease(cfg, node_name="py-h1", public_ip="192.168.77.11")
b = store.lease(cfg, node_name="py-h2", public_ip="192.168.77.12")
print(a.subnet(), b.subnet())
PY
)
if [ -z "${s1:-}" ] || [ -z "${s2:-}" ]; then
	echo "FAIL: the binding could not take leases"; T_FAILED=$((T_FAILED + 1)); t_finish; exit
fi
P1=$(pod_add "$H1" p1 "${s1%.0/24}.2/24" "${s1%.0/24}.1")
P2=$(pod_add "$H2" p2 "${s2%.0/24}.2/24" "${s2%.0/24}.1")
export P1 P2
out=$(python3 "$OVL_TOP/tests/python/test_ovl.py" 2>&1); rc=$?
grep -v "^TESTS: " <<<"$out"
while read -r _ p f; do T_PASSED=$((T_PASSED + p)); T_FAILED=$((T_FAILED + f)); done < <(grep -E '^TESTS: ' <<<"$out")
grep -q '^TESTS: ' <<<"$out" || { echo "FAIL: the Python test did not finish (rc $rc)"; T_FAILED=$((T_FAILED + 1)); }
t_finish
