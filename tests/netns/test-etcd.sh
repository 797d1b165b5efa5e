#!/bin/bash
# test-etcd.sh - the etcd v3 store against a real etcd 3.4 on loopback
# (Debian's etcd-server, a temporary data dir, stopped by PID): 64 racing
# acquirers, flannel's exact key and value, a flanneld-written lease read as
# a peer, TTL expiry and deletion on a watch, compare-and-swap renew,
# release, compaction while a watcher is away, TLS with client certificates,
# the network config.  Nothing outside loopback is touched.
source "$(dirname "$0")/lib.sh"
TOOL=${ETCD_TOOL:-$OVL_BUILD/tests/etcd/etcd-tool}
PREFIX=/coreos.com/network
source "$(dirname "$0")/lib-etcd.sh"
trap 't_cleanup; rm -rf "$ETCD_SHM"' EXIT
trap 't_cleanup; rm -rf "$ETCD_SHM"; exit 1' INT TERM

# etcd_start NAME SCHEME [TLS FLAGS...]: sets ETCD_PID, ETCD_PORT and
# ETCD_DATA; reuses ETCD_PORT/ETCD_PEER and the data dir when set (restart).
etcd_start() {
	local name=$1 scheme=$2; shift 2
	ETCD_PORT=${ETCD_PORT:-$(free_port)}
	ETCD_PEER=${ETCD_PEER:-$(free_port)}
	ETCD_DATA=$ETCD_SHM/$name
	etcd --name "$name" --data-dir "$ETCD_DATA" \
		--listen-client-urls "$scheme://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls "$scheme://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
		--initial-cluster "$name=http://127.0.0.1:$ETCD_PEER" \
		--initial-cluster-state new "$@" >>"$T_TMP/$name.log" 2>&1 &
	ETCD_PID=$!
	track_pid "$ETCD_PID"
}
ectl() { etcdctl --endpoints="127.0.0.1:$ETCD_PORT" "$@"; }
etcd_healthy() { ectl endpoint health >/dev/null 2>&1; }

cat >"$T_TMP/net.json" <<'JSON'
{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":1}}
JSON

etcd_start t1 http
URI="etcd://127.0.0.1:$ETCD_PORT"
check "etcd 3.4 starts on 127.0.0.1:$ETCD_PORT" wait_for 15 etcd_healthy

# ovlctl when its lease command is there, else the test tool.
lease_acquire() {	# NODE IP [TTL]
	if "$OVLCTL" --store "$URI" lease list >/dev/null 2>&1; then
		"$OVLCTL" --store "$URI" --config "$T_TMP/net.json" lease acquire \
			--node "$1" --public-ip "$2" ${3:+--ttl "$3"} \
			--backend-data '{"VNI":1,"VtepMAC":"0e:00:00:00:00:01"}'
	else
		"$TOOL" "$URI" acquire "$T_TMP/net.json" "$1" "$2" ${3:+"$3"}
	fi
}
subnet_keys() { ectl get --prefix --keys-only "$PREFIX/subnets/" | grep -c .; }

# --- 64 concurrent acquirers --------------------------------------------
pids=()
for i in $(seq 64); do
	lease_acquire "racer$i" "192.168.7.$i" 600 >"$T_TMP/racer$i.out" 2>&1 &
	pids+=($!)
done
wait_all "${pids[@]}"
check "64 concurrent acquirers all succeed ($FAILED failed)" test "$FAILED" -eq 0
check "64 distinct subnet keys in etcd" test "$(subnet_keys)" -eq 64
owners() { ectl get --prefix --print-value-only "$PREFIX/subnets/" | jq -r .NodeName | sort -u | grep -c racer; }
check "each of the 64 nodes holds exactly one key" test "$(owners)" -eq 64
check "the listing shows all 64" test "$("$TOOL" "$URI" list | grep -c racer)" -eq 64

# --- flannel's layout -------------------------------------------------------
key=$(ectl get --prefix --keys-only "$PREFIX/subnets/" | grep . | head -1)
value=$(ectl get --print-value-only "$key")
check "key is flannel's <prefix>/subnets/A.B.C.D-LEN" \
	grep -Eq "^$PREFIX/subnets/10\.244\.[0-9]+\.0-24$" <<<"$key"
check "value is LeaseAttrs JSON (PublicIP, BackendType, BackendData.VNI/VtepMAC)" \
	jq -e '(.PublicIP | test("^192\\.168\\.7\\.")) and .BackendType == "vxlan" and
		.BackendData.VNI == 1 and (.BackendData.VtepMAC | type == "string") and
		(.NodeName | startswith("racer")) and (has("Expiration") | not)' <<<"$value"
# -w fields: jq would round the 64-bit lease ID through a double
lease_hex=$(ectl get -w fields "$key" | awk '$1 == "\"Lease\"" { print $3 }')
check "the key is attached to an etcd lease with the TTL" \
	bash -c "etcdctl --endpoints=127.0.0.1:$ETCD_PORT lease timetolive \
		\$(printf %x $lease_hex) | grep -Eq 'granted with TTL\\(600s\\)'"

ectl del --prefix "$PREFIX/subnets/" >/dev/null

# flanneld's exact write (a key with an etcd lease, no NodeName)
flannel_lease=$(ectl lease grant 60 | awk '{print $2}')
ectl put --lease="$flannel_lease" "$PREFIX/subnets/10.244.42.0-24" \
	'{"PublicIP":"192.168.64.3","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}' >/dev/null
# and a reservation: no etcd lease at all
ectl put "$PREFIX/subnets/10.244.43.0-24" \
	'{"PublicIP":"192.168.64.4","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:45"}}' >/dev/null
check "a lease written by flanneld is listed with its TTL" \
	bash -c "'$TOOL' '$URI' list | grep -Eq '^10\\.244\\.42\\.0-24 - 192\\.168\\.64\\.3 (5[0-9]|60)\$'"
check "a key without an etcd lease is a reservation" \
	bash -c "'$TOOL' '$URI' list | grep -q '^10.244.43.0-24 - 192.168.64.4 -1\$'"
check "the reservation is honoured: its owner gets it back" \
	bash -c "'$TOOL' '$URI' acquire '$T_TMP/net.json' '' 192.168.64.4 | grep -qx 10.244.43.0-24"

# --- watch: flanneld peer, TTL expiry, deletion ---------------------------
"$TOOL" "$URI" watch 60 >"$T_TMP/watch.out" 2>"$T_TMP/watch.err" &
watch_pid=$!
track_pid "$watch_pid"
check "watch opens" wait_for 5 grep -q READY "$T_TMP/watch.out"
check "the flanneld lease is a peer on the watch" \
	wait_for 5 grep -q "^ADDED 10.244.42.0-24 -" "$T_TMP/watch.out"
short_key=$("$TOOL" "$URI" acquire "$T_TMP/net.json" shortlived 192.168.7.200 2)
check "a 2 s lease shows up as ADDED" wait_for 5 grep -q "^ADDED $short_key shortlived" "$T_TMP/watch.out"
check "TTL expiry shows as REMOVED with the last known record" \
	wait_for 10 grep -q "^REMOVED $short_key shortlived" "$T_TMP/watch.out"
check "etcd really dropped the expired key" \
	test -z "$(ectl get --keys-only "$PREFIX/subnets/$short_key")"

# --- renew and release ------------------------------------------------------
out=$("$TOOL" "$URI" renew-after "$T_TMP/net.json" victim 192.168.7.201 \
	"etcdctl --endpoints=127.0.0.1:$ETCD_PORT del --prefix $PREFIX/subnets/ --from-key=false >/dev/null 2>&1; \
	 etcdctl --endpoints=127.0.0.1:$ETCD_PORT del $PREFIX/subnets/\$(etcdctl --endpoints=127.0.0.1:$ETCD_PORT get --prefix --keys-only $PREFIX/subnets/ | grep -v '42.0\|43.0' | grep . | head -1 | sed 's|.*/||') >/dev/null")
check "renew after the key was deleted: -ESTALE, marked lost" grep -q "renew ESTALE lost=1" <<<"$out"
check "... with a message naming the lease" grep -q "message lease 10.244.*gone from etcd" <<<"$out"
keeper=$("$TOOL" "$URI" acquire "$T_TMP/net.json" keeper 192.168.7.202 60)
rev_before=$(ectl get -w json "$PREFIX/subnets/$keeper" | jq -r '.kvs[0].mod_revision')
check "release removes the key" "$TOOL" "$URI" release keeper
check "... gone from etcd" test -z "$(ectl get --keys-only "$PREFIX/subnets/$keeper")"
check "... REMOVED on the watch" wait_for 5 grep -q "^REMOVED $keeper keeper" "$T_TMP/watch.out"
check "release twice is success (idempotent)" bash -c "! '$TOOL' '$URI' release keeper 2>&1 | grep -v ENOENT | grep -q ."
check "renew of a live lease keeps its key (rev $rev_before)" \
	bash -c "'$TOOL' '$URI' renew-after '$T_TMP/net.json' alive 192.168.7.203 true | grep -q 'renew OK lost=0'"
check "the watcher logged no error" test ! -s "$T_TMP/watch.err"
kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null

# --- compaction while a watcher is away -------------------------------------
ectl del --prefix "$PREFIX/subnets/" >/dev/null
"$TOOL" "$URI" acquire "$T_TMP/net.json" stays 192.168.7.210 600 >/dev/null
goes=$("$TOOL" "$URI" acquire "$T_TMP/net.json" goes 192.168.7.211 600)
ETCD_TOOL_LOG=4 "$TOOL" "$URI" watch 60 >"$T_TMP/cwatch.out" 2>"$T_TMP/cwatch.err" &
cwatch_pid=$!
track_pid "$cwatch_pid"
check "watcher sees the two leases" wait_for 5 bash -c "grep -c ^ADDED '$T_TMP/cwatch.out' | grep -qx 2"
kill -STOP "$cwatch_pid"
# etcd restarts under the frozen watcher (its stream breaks), and meanwhile
# a lease comes, one goes and the history is compacted past them all.
etcd_stop "$ETCD_PID"
etcd_start t1 http
wait_for 15 etcd_healthy
came=$("$TOOL" "$URI" acquire "$T_TMP/net.json" came 192.168.7.212 600)
ectl del "$PREFIX/subnets/$goes" >/dev/null
ectl put /unrelated x >/dev/null
revision=$(ectl get -w json /unrelated | jq -r .header.revision)
ectl compact "$revision" --physical >/dev/null
kill -CONT "$cwatch_pid"
check "after compaction the watcher reports the lease that came" \
	wait_for 10 grep -q "^ADDED $came came" "$T_TMP/cwatch.out"
check "... and the one that went, with its record" \
	grep -q "^REMOVED $goes goes" "$T_TMP/cwatch.out"
check "... it was told of the compaction and listed again" \
	grep -q "compacted at revision.*listing again" "$T_TMP/cwatch.err"
check "... and the one that stayed is not reported twice" \
	test "$(grep -c ' stays$' "$T_TMP/cwatch.out")" -eq 1
kill "$cwatch_pid" 2>/dev/null; wait "$cwatch_pid" 2>/dev/null

# --- errors -----------------------------------------------------------------
dead=$(free_port)
out=$("$TOOL" "etcd://127.0.0.1:$dead" list 2>&1)
check "no etcd: ECONNREFUSED with the endpoint" \
	grep -q "127.0.0.1:$dead.*cannot connect.*(ECONNREFUSED)" <<<"$out"
check "fail over: a dead endpoint first, then the live one" \
	"$TOOL" "etcd://127.0.0.1:$dead,127.0.0.1:$ETCD_PORT" list

# --- the network config -----------------------------------------------------
if "$OVLCTL" --store "$URI" config put "$T_TMP/net.json" >/dev/null 2>&1; then
	check "ovlctl config put writes <prefix>/config" true
else
	check "config put writes <prefix>/config (tool)" "$TOOL" "$URI" config-put "$T_TMP/net.json"
fi
check "<prefix>/config holds the file" \
	bash -c "etcdctl --endpoints=127.0.0.1:$ETCD_PORT get --print-value-only $PREFIX/config | jq -e '.Network == \"10.244.0.0/16\"'"
check "config get reads it back" bash -c "'$TOOL' '$URI' config-get | jq -e '.network == \"10.244.0.0/16\"'"
etcd_stop "$ETCD_PID"

# --- TLS with client certificates --------------------------------------------
pki=$T_TMP/pki
mkdir -p "$pki"
(
	cd "$pki" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca \
		-keyout ca.key -out ca.pem 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca \
		-keyout other.key -out other.pem 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >ext
	for who in server client; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" \
			-keyout "$who.key" -out "$who.csr" 2>/dev/null
		openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 1 -extfile ext -out "$who.pem" 2>/dev/null
	done
)
unset ETCD_PORT ETCD_PEER
etcd_start tls https --cert-file "$pki/server.pem" --key-file "$pki/server.key" \
	--client-cert-auth --trusted-ca-file "$pki/ca.pem"
tls_healthy() {
	curl -sf --cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" \
		"https://127.0.0.1:$ETCD_PORT/health" >/dev/null
}
check "etcd with TLS and client-cert auth starts" wait_for 15 tls_healthy
TLS="etcds://127.0.0.1:$ETCD_PORT?cacert=$pki/ca.pem&cert=$pki/client.pem&key=$pki/client.key"
check "etcds:// with the right CA and client cert acquires" \
	"$TOOL" "$TLS" acquire "$T_TMP/net.json" tls1 192.168.7.220
check "... and lists it" bash -c "'$TOOL' '$TLS' list | grep -q tls1"
out=$("$TOOL" "etcds://127.0.0.1:$ETCD_PORT?cacert=$pki/other.pem&cert=$pki/client.pem&key=$pki/client.key" list 2>&1)
check "a wrong CA is refused: certificate not trusted (EKEYREJECTED)" \
	grep -q "server certificate not trusted (cacert $pki/other.pem).*(EKEYREJECTED)" <<<"$out"
out=$("$TOOL" "etcds://127.0.0.1:$ETCD_PORT?cacert=$pki/ca.pem" list 2>&1)
check "no client certificate: the handshake is refused" grep -q "TLS handshake failed\|connection lost" <<<"$out"
out=$("$TOOL" "etcd://127.0.0.1:$ETCD_PORT" list 2>&1)
check "plain HTTP to a TLS etcd fails with a message" grep -q "etcd http://127.0.0.1:$ETCD_PORT" <<<"$out"
etcd_stop "$ETCD_PID"

t_finish
