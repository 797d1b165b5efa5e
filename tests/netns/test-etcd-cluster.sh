#!/bin/bash
# test-etcd-cluster.sh - the etcd store against a real 3-member etcd 3.4
# cluster on loopback, and against an etcd with authentication:
#  - 64 nodes acquire at once while the leader is killed (SIGKILL): every
#    acquirer gets a lease, no subnet is held twice and no acknowledged
#    lease is missing from etcd;
#  - a watcher started before the kill keeps receiving changes after it;
#  - username/password: an expiring token is renewed, a wrong password is
#    one clear error after one refused request, not a retry storm.
# etcd runs on 127.0.0.1 only and is stopped by PID.
source "$(dirname "$0")/lib.sh"
PREFIX=/coreos.com/network
source "$(dirname "$0")/lib-etcd.sh"
trap 't_cleanup; rm -rf "$ETCD_SHM"' EXIT
trap 't_cleanup; rm -rf "$ETCD_SHM"; exit 1' INT TERM

cat >"$T_TMP/net.json" <<'JSON'
{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":1}}
JSON

# ---- three members ------------------------------------------------------
declare -A CLIENT PEER PID
cluster=""
for m in m1 m2 m3; do
	CLIENT[$m]=$(free_port)
	PEER[$m]=$(free_port)
	cluster="$cluster${cluster:+,}$m=http://127.0.0.1:${PEER[$m]}"
done
for m in m1 m2 m3; do
	etcd --name "$m" --data-dir "$ETCD_SHM/$m" \
		--listen-client-urls "http://127.0.0.1:${CLIENT[$m]}" \
		--advertise-client-urls "http://127.0.0.1:${CLIENT[$m]}" \
		--listen-peer-urls "http://127.0.0.1:${PEER[$m]}" \
		--initial-advertise-peer-urls "http://127.0.0.1:${PEER[$m]}" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		>>"$T_TMP/etcd-$m.log" 2>&1 &
	PID[$m]=$!
	track_pid "${PID[$m]}"
done
ENDPOINTS="127.0.0.1:${CLIENT[m1]},127.0.0.1:${CLIENT[m2]},127.0.0.1:${CLIENT[m3]}"
URI="etcd://$ENDPOINTS"
ectl() { etcdctl --endpoints="$ENDPOINTS" --command-timeout=2s "$@"; }
cluster_healthy() { ectl endpoint health >/dev/null 2>&1; }
check "a 3-member etcd cluster starts on 127.0.0.1" wait_for 30 cluster_healthy
leader() { # the member leading now
	local m
	for m in m1 m2 m3; do
		kill -0 "${PID[$m]}" 2>/dev/null || continue
		etcdctl --endpoints="127.0.0.1:${CLIENT[$m]}" --command-timeout=1s endpoint status \
			-w json 2>/dev/null | jq -e '.[0].Status.leader == .[0].Status.header.member_id' \
			>/dev/null && { echo "$m"; return 0; }
	done
	return 1
}
first=$(leader)
check "the cluster has a leader ($first)" test -n "$first"

# A watcher from before the kill (its records printed as they come).
"$OVLCTL" --store "$URI" lease watch >"$T_TMP/watch.out" 2>"$T_TMP/watch.err" &
watcher=$!
track_pid "$watcher"
sleep 1

# ---- 64 acquirers, the leader killed among them ----------------------------
pids=()
for i in $(seq 64); do
	"$OVLCTL" --json --store "$URI" --config "$T_TMP/net.json" lease acquire \
		--node "racer$i" --public-ip "192.168.7.$i" --ttl 600 \
		>"$T_TMP/racer$i.out" 2>"$T_TMP/racer$i.err" &
	pids+=($!)
done
sleep 0.3
kill -9 "${PID[$first]}"
wait_all "${pids[@]}"
survivors=""
for m in m1 m2 m3; do
	[ "$m" = "$first" ] || survivors="$survivors${survivors:+,}127.0.0.1:${CLIENT[$m]}"
done
ectl() { etcdctl --endpoints="$survivors" --command-timeout=2s "$@"; }
check "the leader ($first) was killed while they acquired" bash -c "! kill -0 ${PID[$first]} 2>/dev/null"
check "all 64 acquirers got a lease ($FAILED failed)" test "$FAILED" -eq 0
for i in $(seq 64); do
	[ -s "$T_TMP/racer$i.err" ] && { echo "racer$i:"; cat "$T_TMP/racer$i.err"; }
done | head -20
keys() { ectl get --prefix --keys-only "$PREFIX/subnets/" | grep .; }
check "64 keys in etcd, 64 distinct subnets (no duplicate)" bash -c "
	[ \$(etcdctl --endpoints=$survivors get --prefix --keys-only $PREFIX/subnets/ | grep -c .) -eq 64 ]"
check "each node holds exactly one key" bash -c "
	[ \$(etcdctl --endpoints=$survivors get --prefix --print-value-only $PREFIX/subnets/ |
		jq -r .NodeName | sort | uniq -u | grep -c racer) -eq 64 ]"
lost=0
for i in $(seq 64); do
	key=$(jq -r .key "$T_TMP/racer$i.out" 2>/dev/null)
	owner=$(ectl get --print-value-only "$PREFIX/subnets/$key" 2>/dev/null | jq -r .NodeName)
	[ "$owner" = "racer$i" ] || { lost=$((lost + 1)); echo "racer$i: acknowledged '$key', etcd says '$owner'"; }
done
check "no acknowledged lease is lost ($lost)" test "$lost" -eq 0

# The watcher goes on with the survivors: a change made once the new
# leader serves writes reaches it within 3 s.
put_at=$(date +%s%N)
ectl put "$PREFIX/subnets/10.244.250.0-24" \
	'{"PublicIP":"192.168.9.9","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0e:00:00:00:09:09"}}' >/dev/null
watch_sees() { grep -q '10.244.250.0/24' "$T_TMP/watch.out"; }
wait_for 10 watch_sees
seen_ms=$(( ($(date +%s%N) - put_at) / 1000000 ))
check "a watch from before the kill reports a change made after it, within 3 s ($seen_ms ms)" \
	test "$seen_ms" -lt 3000
kill "$watcher" 2>/dev/null
for m in m1 m2 m3; do [ "$m" = "$first" ] || etcd_stop "${PID[$m]}"; done

# ---- authentication ------------------------------------------------------
PORT=$(free_port)
APEER=$(free_port)
etcd --name auth --data-dir "$ETCD_SHM/auth" --auth-token simple --auth-token-ttl 2 \
	--listen-client-urls "http://127.0.0.1:$PORT" --advertise-client-urls "http://127.0.0.1:$PORT" \
	--listen-peer-urls "http://127.0.0.1:$APEER" --initial-advertise-peer-urls "http://127.0.0.1:$APEER" \
	--initial-cluster "auth=http://127.0.0.1:$APEER" --initial-cluster-state new \
	>>"$T_TMP/etcd-auth.log" 2>&1 &
AUTH_PID=$!
track_pid "$AUTH_PID"
actl() { etcdctl --endpoints="127.0.0.1:$PORT" "$@"; }
auth_healthy() { actl endpoint health >/dev/null 2>&1; }
check "etcd with auth starts" wait_for 15 auth_healthy
actl user add root:rootpw >/dev/null && actl user grant-role root root >/dev/null &&
	actl auth enable >/dev/null
check "auth is enabled: no request without a token" bash -c "
	! etcdctl --endpoints=127.0.0.1:$PORT get foo >/dev/null 2>&1"
AURI="etcd://127.0.0.1:$PORT?username=root&password=rootpw"
check "user and password: acquire" "$OVLCTL" --json --store "$AURI" --config "$T_TMP/net.json" \
	lease acquire --node a1 --public-ip 192.168.8.1 --ttl 600
check "a token older than its TTL (2 s) is renewed: a handle renews 4 s after it acquired" bash -c "
	'$OVL_BUILD/tests/etcd/etcd-tool' '$AURI' renew-after '$T_TMP/net.json' a2 192.168.8.2 'sleep 4' |
		grep -q '^renew OK lost=0'"
authenticate_calls() {
	curl -s "http://127.0.0.1:$PORT/metrics" |
		awk '/^grpc_server_started_total.*grpc_method="Authenticate"/ { n += $2 } END { print n + 0 }'
}
before=$(authenticate_calls)
started=$(date +%s%N)
"$OVLCTL" --store "etcd://127.0.0.1:$PORT?username=root&password=wrong" lease list \
	>"$T_TMP/wrong.out" 2>"$T_TMP/wrong.err"
rc=$?
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
after=$(authenticate_calls)
check "a wrong password fails" test "$rc" -ne 0
check "... with a message about authentication: $(head -c 200 "$T_TMP/wrong.err")" \
	grep -qi "authenticat" "$T_TMP/wrong.err"
check "... after one authentication request ($((after - before))), in $elapsed ms (no retry storm)" \
	test $((after - before)) -le 1 -a "$elapsed" -lt 3000
etcd_stop "$AUTH_PID"
t_finish
