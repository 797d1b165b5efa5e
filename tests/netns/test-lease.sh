#!/bin/bash
# test-lease.sh - leases on the file store with real processes: 64 racing
# writers, 16 writers in 16 network namespaces sharing the file, 200
# writers killed with SIGKILL at random points, TTL expiry seen on a watch,
# a corrupt store refused and left byte for byte, and a watcher that sees
# another process's changes in order.
source "$(dirname "$0")/lib.sh"

STORE="$T_TMP/store/leases.json"
CONF="$T_TMP/net-conf.json"
cat > "$CONF" <<'EOF'
{"Network": "10.50.0.0/16", "SubnetMin": "10.50.10.0", "SubnetMax": "10.50.200.0",
 "Backend": {"Type": "vxlan"}}
EOF
ovl() { "$OVLCTL" --store "file:$STORE" --config "$CONF" "$@"; }

# Every lease key in the store (fails when the file does not parse).
store_keys() { jq -er '.leases | keys[]' "$STORE"; }
# The third octet of every subnet is within SubnetMin..SubnetMax.
in_bounds() {
	local key octet
	for key in $(store_keys); do
		octet=$(cut -d. -f3 <<< "$key")
		[ "${key%%.*}" = 10 ] && [ "$octet" -ge 10 ] && [ "$octet" -le 200 ] || return 1
	done
}

# ---- 64 processes at once on one store ---------------------------------
pids=()
for i in $(seq 1 64); do
	ovl lease acquire --node "race-$i" --public-ip "192.168.10.$i" > "$T_TMP/race-$i.out" 2>&1 &
	pids+=($!)
done
wait_all "${pids[@]}"
check "64 racing acquisitions all succeed" test "$FAILED" -eq 0
check "the store parses and holds 64 leases" test "$(store_keys | wc -l)" -eq 64
check "64 distinct subnets were handed out" \
	test "$(cat "$T_TMP"/race-*.out | sort -u | wc -l)" -eq 64
check "each process got the subnet the store records for it" bash -c '
	for i in $(seq 1 64); do
		key=$(sed "s|/|-|" "'"$T_TMP"'/race-$i.out")
		[ "$(jq -r --arg k "$key" ".leases[\$k].NodeName" "'"$STORE"'")" = "race-$i" ] || exit 1
	done'
check "all subnets inside SubnetMin..SubnetMax" in_bounds

# ---- 16 processes in 16 network namespaces sharing the file -------------
pids=()
for i in $(seq 1 16); do
	ns=$(ns_add "n$i")
	ovlctl_in "$ns" --store "file:$STORE" --config "$CONF" lease acquire --node "ns-$i" \
		--public-ip "192.168.20.$i" > "$T_TMP/ns-$i.out" 2>&1 &
	pids+=($!)
done
wait_all "${pids[@]}"
check "16 acquisitions from 16 namespaces succeed" test "$FAILED" -eq 0
check "the store holds 80 leases, 80 distinct subnets" \
	test "$(store_keys | wc -l)" -eq 80 -a "$(cat "$T_TMP"/race-*.out "$T_TMP"/ns-*.out | sort -u | wc -l)" -eq 80
check "still all inside SubnetMin..SubnetMax" in_bounds
for ns in "${T_NAMESPACES[@]}"; do ip netns del "$ns"; done
T_NAMESPACES=()

# ---- SIGKILL at random points, 200 times ---------------------------------
# A large store (1,000 leases) makes every write long enough for a kill at
# a random moment of a writer's life (measured first) to land inside it.
KSTORE="$T_TMP/kill/leases.json"
KCONF="$T_TMP/kill-conf.json"
echo '{"Network": "10.0.0.0/8"}' > "$KCONF"
mkdir -p "$T_TMP/kill"
jq -nc '{version: 1, revision: 1, leases: ([range(1; 1001) | {key: "10.\(. / 256 | floor).\(. % 256).0-24",
	value: {PublicIP: "192.168.30.1", BackendType: "vxlan", NodeName: "filler-\(.)",
	Expiration: (now + 3600 | floor)}}] | from_entries)}' > "$KSTORE"
start=$(date +%s%N)
"$OVLCTL" --store "file:$KSTORE" --config "$KCONF" lease acquire --node kill-probe \
	--public-ip 192.168.31.254 > /dev/null
life=$(( ($(date +%s%N) - start) / 1000000 * 13 / 10 + 1 ))
acked="$T_TMP/acked"
: > "$acked"
broken=0
for i in $(seq 1 200); do
	"$OVLCTL" --store "file:$KSTORE" --config "$KCONF" lease acquire --node "kill-$i" \
		--public-ip "192.168.31.$((i % 250 + 1))" > "$T_TMP/kill.out" 2>/dev/null &
	pid=$!
	r=$((RANDOM % life))
	sleep "$((r / 1000)).$(printf %03d $((r % 1000)))"
	kill -9 "$pid" 2>/dev/null
	# acknowledged: the process finished and printed its subnet
	if wait "$pid" 2>/dev/null && [ -s "$T_TMP/kill.out" ]; then
		echo "kill-$i $(sed 's|/|-|' "$T_TMP/kill.out")" >> "$acked"
	fi
	jq -e .leases "$KSTORE" > /dev/null || broken=$((broken + 1))
done
check "after 200 SIGKILLs the store parsed every time" test "$broken" -eq 0
echo "    ($(wc -l < "$acked") of 200 writers finished before their SIGKILL)"
check "some writers were killed, some acknowledged" \
	test "$(wc -l < "$acked")" -gt 0 -a "$(wc -l < "$acked")" -lt 200
check "every acknowledged lease is in the store" bash -c '
	while read -r node key; do
		[ "$(jq -r --arg k "$key" ".leases[\$k].NodeName" "'"$KSTORE"'")" = "$node" ] || { echo "lost $node $key"; exit 1; }
	done < "'"$acked"'"'
check "the 1,000 other leases are intact" \
	test "$(jq '[.leases[] | select(.NodeName | startswith("filler-"))] | length' "$KSTORE")" -eq 1000
check "ovlctl still reads it" "$OVLCTL" --store "file:$KSTORE" lease list

# ---- watch: another process's changes, in order ----------------------------
WSTORE="$T_TMP/watch/leases.json"
wl() { "$OVLCTL" --store "file:$WSTORE" --config "$CONF" "$@"; }
# not through wl: $! must be ovlctl itself
"$OVLCTL" --store "file:$WSTORE" --json lease watch > "$T_TMP/watch.log" &
WATCH=$!
track_pid "$WATCH"
events() { wc -l < "$T_TMP/watch.log"; }
wait_events() { wait_for 5 test "$(events)" -ge "$1"; }
wl lease acquire --node w1 --public-ip 192.168.40.1 > /dev/null && wait_events 1
wl lease acquire --node w2 --public-ip 192.168.40.2 > /dev/null && wait_events 2
wl lease release --node w1 && wait_events 3
wl lease release --node w2 && wait_events 4
check "the watcher saw exactly: added w1, added w2, removed w1, removed w2" test \
	"$(jq -r '"\(.event) \(.lease.node)"' "$T_TMP/watch.log" | paste -sd,)" = \
	"added w1,added w2,removed w1,removed w2"

# ---- expiry: TTL 1 s -----------------------------------------------------------
subnet=$(wl lease acquire --node short --public-ip 192.168.40.3 --ttl 1)
check "a lease with TTL 1 s is REMOVED on the watch after it expires" \
	wait_for 4 grep -q '"event":"removed".*"node":"short"' "$T_TMP/watch.log"
check "and is free: another node gets exactly that subnet" \
	test "$(wl lease acquire --node taker --public-ip 192.168.40.4 --subnet "$subnet")" = "$subnet"
check_fails "the expired node cannot renew it" wl lease renew --node short
check "lease list no longer shows the expired lease" bash -c \
	"! '$OVLCTL' --store 'file:$WSTORE' lease list | grep -q ' short '"
kill "$WATCH"

# ---- a corrupt store is refused and left alone ------------------------------
CSTORE="$T_TMP/corrupt.json"
printf '{"version":1,"leases":{"10.50.10.0-24":{"PublicIP":"192.168.1.1"}' > "$CSTORE"
cp "$CSTORE" "$T_TMP/corrupt.orig"
out=$("$OVLCTL" --store "file:$CSTORE" --config "$CONF" lease acquire --node c \
	--public-ip 192.168.50.1 2>&1)
rc=$?
check "acquire on a corrupt store fails" test "$rc" -ne 0
check "the error names the file and the parse error" \
	grep -q "$CSTORE: does not parse: line 1" <<< "$out"
check "the corrupt file is byte for byte unchanged" cmp "$CSTORE" "$T_TMP/corrupt.orig"
echo '{"version":9,"leases":{}}' > "$CSTORE"
cp "$CSTORE" "$T_TMP/corrupt.orig"
check_fails "a store of a newer format version is refused" \
	"$OVLCTL" --store "file:$CSTORE" --config "$CONF" lease acquire --node c --public-ip 192.168.50.1
check "and left unchanged" cmp "$CSTORE" "$T_TMP/corrupt.orig"

t_finish
