#!/bin/bash
# test-store-truncate.sh - a store file changed under the readers' feet, as
# any process that can write it may do: while an agent (`ovlctl run` in a
# namespace), an embedder's reader loop (store-reader.c, one handle) and
# `ovlctl lease list` processes use the file store, it is 1,000 times
# truncated in place to a random length, replaced by another valid document
# (rename) or overwritten in place with garbage, and put back each time.
# Nobody dies by a signal (a mapped file that shrinks raises SIGBUS), the
# corrupt states are reported as documents that do not parse, and once the
# file is valid again the agent installs a new peer and reports ready.
. "$(dirname "$0")/lib.sh"

# The real binaries, not libtool's wrapper scripts.
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
READER="$OVL_BUILD/tests/tools/store-reader"
[ -x "$OVL_BUILD/tests/tools/.libs/store-reader" ] && READER="$OVL_BUILD/tests/tools/.libs/store-reader"
ROUNDS=${ROUNDS:-1000}
file="$T_TMP/leases.json"
store="file:$file"
conf="$T_TMP/net-conf.json"
echo '{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }' > "$conf"
stop="$T_TMP/stop"

# The store holds 200 peers (about 40 KB, ten pages: a truncation
# usually cuts whole pages off a mapping) besides the agent's own lease.
python3 - "$file" <<'EOF'
import json, sys, time
leases = {}
for n in range(10, 210):
    leases["10.244.%d.0-24" % n] = {
        "PublicIP": "192.168.77.%d" % n, "BackendType": "vxlan",
        "BackendData": {"VNI": 1, "VtepMAC": "0e:00:00:00:aa:%02x" % n},
        "NodeName": "peer-%d" % n, "Expiration": int(time.time()) + 86400}
json.dump({"version": 1, "revision": 1, "leases": leases}, open(sys.argv[1], "w"))
EOF

sw=$(underlay_add)
host=$(host_add "$sw" h1 192.168.77.1/24)
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\n' > "$T_TMP/h1.env"
# The default resync period: a store watch that fails to reopen (the file
# was corrupt at that moment) must be retried with backoff, not a period
# (60 s) later.
ovlctl_bg "$host" "$T_TMP/h1.log" --store "$store" --config "$conf" run --node h1 \
	--iface eth0 --subnet-file "$T_TMP/h1.env"
agent=$BG_PID
routed() { ip -n "$host" route show "$1" | grep -q flannel.1; }
check "the agent becomes ready with 200 peers" wait_for 15 sh -c \
	"grep -q 'notice: ready' '$T_TMP/h1.log' && ip -n '$host' route show 10.244.209.0/24 | grep -q flannel.1"
cp "$file" "$T_TMP/valid.json"

# A reader loop in one process (an embedder), and ovlctl processes (each
# reads the file afresh) recording their exit statuses.
"$READER" "$store" "$stop" > "$T_TMP/reader.out" 2>&1 &
reader=$!
track_pid "$reader"
(
	while [ ! -e "$stop" ]; do
		"$OVLCTL" --store "$store" lease list > /dev/null 2>> "$T_TMP/list.err"
		echo $? >> "$T_TMP/list.status"
	done
) &
lister=$!
track_pid "$lister"

# mutate FILE VALID ROUNDS: each round one change (truncate, replace,
# garbage), a pause of up to 2 ms, the valid document put back (renamed over
# it) and a pause of 3 ms; then a probe peer is added to the valid document.
cat > "$T_TMP/mutate.py" <<'EOF'
import json, os, random, sys, time
path, valid, rounds = sys.argv[1], open(sys.argv[2], "rb").read(), int(sys.argv[3])
doc = json.loads(valid)
doc["revision"] += 1
for key in list(doc["leases"])[-5:]:
    if doc["leases"][key].get("NodeName", "").startswith("peer-"):
        del doc["leases"][key]
other = json.dumps(doc).encode()
random.seed(15)
def put(data):
    with open(path + ".mutate", "wb") as out:
        out.write(data)
    os.rename(path + ".mutate", path)
counts = [0, 0, 0]
for i in range(rounds):
    op = i % 3
    counts[op] += 1
    if op == 0:
        os.truncate(path, random.randrange(1, len(valid)))
    elif op == 1:
        put(other)
    else:
        with open(path, "r+b") as f:
            f.seek(random.choice([0, random.randrange(len(valid))]))
            f.write(os.urandom(random.randrange(1, 4096)))
    time.sleep(random.random() * 0.002)
    put(valid)
    time.sleep(0.003)
doc = json.loads(valid)
doc["revision"] += 2
doc["leases"]["10.244.250.0-24"] = {
    "PublicIP": "192.168.77.250", "BackendType": "vxlan",
    "BackendData": {"VNI": 1, "VtepMAC": "0e:00:00:00:aa:fa"}, "NodeName": "probe"}
put(json.dumps(doc).encode())
print("truncated %d, replaced %d, overwritten with garbage %d times" % tuple(counts))
EOF
started=$SECONDS
check "$ROUNDS truncations, replacements and garbage writes" \
	python3 "$T_TMP/mutate.py" "$file" "$T_TMP/valid.json" "$ROUNDS"
echo "    mutations took $((SECONDS - started)) s"
touch "$stop"
wait "$reader"
reader_status=$?
wait "$lister"
echo "    reader: $(tail -1 "$T_TMP/reader.out")"
echo "    ovlctl lease list: $(grep -c . "$T_TMP/list.status") runs, $(grep -vcx 0 "$T_TMP/list.status") failed"

check "the reader loop was not killed by a signal" test "$reader_status" -le 128
check "the reader loop saw only clear errors and some listings" test "$reader_status" -eq 0
check "the reader reported the corrupt document as not parsing" \
	grep -q 'error -74 (Bad message): store .*: does not parse: ' "$T_TMP/reader.out"
check "no ovlctl lease list was killed by a signal" sh -c "! awk '\$1 > 128' '$T_TMP/list.status' | grep -q ."
check "ovlctl lease list failed only with clear errors" sh -c \
	"! grep -av 'does not parse: \\|keeps changing' '$T_TMP/list.err' | grep -q ."
check "the agent is still running" kill -0 "$agent"
check "the agent logged the corrupt document as not parsing" grep -q 'does not parse: ' "$T_TMP/h1.log"
check "with the file valid again the agent installs a new peer" wait_for 15 routed 10.244.250.0/24
check "ovlctl status reports ready" ip netns exec "$host" "$OVLCTL" --store "$store" \
	--config "$conf" status --subnet-file "$T_TMP/h1.env" --node h1
kill -TERM "$agent"
wait "$agent"
agent_status=$?
check "the agent stops cleanly (not by a signal)" test "$agent_status" -eq 0
if [ "$T_FAILED" -gt 0 ]; then
	echo "--- agent log"; grep -v 'notice: peer' "$T_TMP/h1.log" | cut -c1-200 | tail -30
	echo "--- reader"; head -20 "$T_TMP/reader.out"
	echo "--- ovlctl lease list errors"; sort "$T_TMP/list.err" | cut -c1-200 | uniq -c | sort -rn | head
fi
t_finish
