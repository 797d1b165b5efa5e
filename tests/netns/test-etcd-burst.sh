#!/bin/bash
# test-etcd-burst.sh - many nodes join at once (flannel #958, #1145): an
# agent on a real etcd among 2,000 flanneld-format leases sees 1,000 more
# appear within one second (puts batched in transactions, one etcd lease
# each) and installs every one of them, then sees them all deleted at once
# and removes every one; its resyncs meanwhile ask etcd one small request
# each and list nothing: idle, and after the burst too (the watch showed
# every change, and the store matches what the watch knows).  A record the
# watch cannot read makes the store differ from it: that resync lists.  The
# start lists the records once: its watch begins from that listing.
# etcd runs on the loopback of the agent's namespace (underlay: a veth pair
# inside it), data on tmpfs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-etcd.sh"
cleanup() {
	t_cleanup
	rm -rf "$ETCD_SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
TOOL="python3 $OVL_TOP/bench/scale-store.py"
ETCD=127.0.0.1:2379
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

H=$(ns_add burst)
ip -n "$H" link add eth0 type veth peer name eth1
ip -n "$H" addr add 172.31.0.1/24 dev eth0
ip -n "$H" link set eth1 up
ip -n "$H" link set eth0 up
ip netns exec "$H" etcd --name burst --data-dir "$ETCD_SHM/data" \
	--listen-client-urls "http://$ETCD" --advertise-client-urls "http://$ETCD" \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster burst=http://127.0.0.1:2380 --initial-cluster-state new \
	>"$T_TMP/etcd.log" 2>&1 &
track_pid $!
in_h() { ip netns exec "$H" "$@"; }
for _ in $(seq 100); do in_h curl -sf "http://$ETCD/health" >/dev/null && break; sleep 0.1; done
in_h $TOOL config "$ETCD"
in_h $TOOL write "$ETCD" 256 2000
peers() { ip -n "$H" route show dev flannel.1 2>/dev/null | grep -c onlink; }
# wait_peers COUNT SECONDS: the kernel holds COUNT peer routes in time.
wait_peers() {
	local end=$(( $(now_ms) + $2 * 1000 ))
	while [ "$(peers)" -ne "$1" ]; do [ "$(now_ms)" -gt "$end" ] && return 1; sleep 0.02; done
}

ranges=$(in_h $TOOL requests "$ETCD" Range)
ovlctl_bg "$H" "$T_TMP/agent.log" --store "etcd://$ETCD" run --node burst --iface eth0 \
	--subnet-file "$T_TMP/subnet.env" --resync 1 --listen 127.0.0.1:9124
check "the agent starts with 2,000 peers installed" wait_peers 2000 20
ranges=$(( $(in_h $TOOL requests "$ETCD" Range) - ranges ))
echo "range requests to start: $ranges"
# The config, then 2 pages of 1,000 records (and maybe the first resync's
# probe): the watch takes that listing and streams from its revision
# instead of listing again (which made it 6).
check "the start lists the records once ($ranges range requests)" test "$ranges" -le 4
metric() { in_h curl -sf "http://127.0.0.1:9124/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
resyncs() { metric ovl_resync_duration_seconds_count; }
# after_resyncs N: N more resyncs have finished (10 s at most).
after_resyncs() {
	local want=$(( $(resyncs) + $1 )) end=$(( $(now_ms) + 10000 ))
	while [ "$(resyncs)" -lt "$want" ]; do [ "$(now_ms)" -gt "$end" ] && return 1; sleep 0.1; done
}
check "...from the watch's listing alone (ovl_store_listings_total 0)" \
	test "$(metric ovl_store_listings_total)" = 0

in_h $TOOL grant "$ETCD" 1000 "$T_TMP/ids"
start=$(now_ms)
in_h $TOOL put "$ETCD" 2256 "$T_TMP/ids" >/dev/null
written=$(( $(now_ms) - start ))
echo "1,000 leases written in $written ms"
check "the 1,000 leases appeared within one second" test "$written" -lt 1000
check "all 3,000 peers are installed within 5 s" wait_peers 3000 5
check "every new peer was logged as added" \
	test "$(grep -c 'notice: peer 10\.[0-9.]*-24 added' "$T_TMP/agent.log")" -ge 3000
check "three resyncs after the burst" after_resyncs 3
check "...listed nothing: the watch had shown every change" \
	test "$(metric ovl_store_listings_total)" = 0

# Idle: each resync asks one small request, lists nothing.
sleep 1.5
before=$(in_h $TOOL requests "$ETCD")
sleep 3
asked=$(( $(in_h $TOOL requests "$ETCD") - before ))
echo "etcd requests over 3 s of 1 s resyncs: $asked"
check "an idle agent asks etcd at most 2 requests per resync" test "$asked" -le 6

start=$(now_ms)
in_h $TOOL delete "$ETCD" 2256 1000 >/dev/null
check "the 1,000 deleted leases are removed within 5 s" wait_peers 2000 5
echo "removed in $(( $(now_ms) - start )) ms"
check "three resyncs after the deletions list nothing either" \
	bash -c "$(declare -f metric resyncs after_resyncs now_ms in_h); H=$H; after_resyncs 3 &&
		test \"\$(metric ovl_store_listings_total)\" = 0"
# A record that does not decode: etcd counts it, the watch does not know it.
in_h curl -sf "http://$ETCD/v3/kv/put" -d "{\"key\":\"$(printf /coreos.com/network/subnets/10.250.0.0-24 | base64 -w0)\",\"value\":\"$(printf 'not json' | base64 -w0)\"}" >/dev/null
check "a record the watch cannot read: the next resyncs list the store" \
	bash -c "$(declare -f metric resyncs after_resyncs now_ms in_h); H=$H; after_resyncs 2 &&
		test \"\$(metric ovl_store_listings_total)\" -ge 1"
check "...and the kernel still holds the 2,000 peers" wait_peers 2000 5
check "the agent is still running" kill -0 "$BG_PID"
check "the agent logged no error" bash -c "! grep -q ' error:' '$T_TMP/agent.log'"
t_finish
