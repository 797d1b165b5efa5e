#!/bin/bash
# scale.sh - one agent in a cluster of N nodes: N flanneld-format leases on
# a real etcd (written fast through the v3 JSON gateway, one etcd lease
# each), one `ovlctl run` in a namespace (its underlay a veth pair, etcd on
# that namespace's loopback, resync every 3 s).  Measured for each N:
# start -> ready with every peer in the kernel; etcd requests and agent CPU
# per resync and the idle agent's CPU over IDLE s (etcd's own /metrics,
# grpc_server_started_total, and the agent's schedstat); 1,000 removals and
# 1,000 additions until the kernel has them; the full listings the agent
# made by then (ovl_store_listings_total, two resyncs after the churn:
# the watch showed every change, so none); the agent's RSS.  The baseline
# column is flanneld's request pattern on the same etcd (a range, then one
# TimeToLive per key, every listing), played by bench/scale-store.py.  Then
# the file store at the largest N: ready and CPU per resync.
# Goals at 10,000: ready <= 1 s, <= 3 requests per resync, <= 20 ms CPU per
# resync, removals and additions <= 500 ms each, RSS <= 32 MiB.
#
#   sudo bench/scale.sh [N...]      (default 1000 5000 10000; IDLE=60 s)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/netns/lib.sh"
shm=$(mktemp -d /dev/shm/ovl-scale.XXXXXX)
cleanup() {
	t_cleanup
	rm -rf "$shm"
}
trap 'exit 130' INT TERM
trap cleanup EXIT
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
[ -x "$OVLCTL" ] || { echo "scale: build first ($OVLCTL missing)"; exit 1; }
command -v etcd >/dev/null || { echo "scale: etcd missing (apt-get install etcd-server)"; exit 1; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
SIZES=${*:-1000 5000 10000}
IDLE=${IDLE:-60}
RESYNC=3
CHURN=1000
FLANNELD_ROUNDS=${FLANNELD_ROUNDS:-3}
TOOL="python3 $top/bench/scale-store.py"
ETCD=127.0.0.1:2379
HZ=$(getconf CLK_TCK)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# CPU ns a process used so far, all its threads.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
# etcd's CPU in ms (utime + stime).
etcd_cpu_ms() { awk -v hz="$HZ" '{ print ($14 + $15) * 1000 / hz }' /proc/"$1"/stat; }
peers_in_kernel() { ip -n "$H" route show dev flannel.1 2>/dev/null | grep -c onlink; }
# wait_peers COUNT: ms until the kernel holds COUNT peer routes (60 s at most).
wait_peers() {
	local start=$(now_ms)
	while [ "$(peers_in_kernel)" -ne "$1" ]; do
		[ $(( $(now_ms) - start )) -gt 60000 ] && { echo timeout; return 1; }
		sleep 0.005
	done
}
ms_since() { echo $(( $(now_ms) - $1 )); }
in_h() { ip netns exec "$H" "$@"; }

# The namespace's underlay: a veth pair inside it (this kernel has no dummy).
underlay() {
	ip -n "$H" link add eth0 type veth peer name eth1
	ip -n "$H" addr add 172.31.0.1/24 dev eth0
	ip -n "$H" link set eth1 up
	ip -n "$H" link set eth0 up
}
# One namespace per N, etcd on its loopback.
setup() {
	H=$(ns_add "s$1")
	underlay
	rm -rf "$shm/etcd"
	ip netns exec "$H" etcd --name scale --data-dir "$shm/etcd" \
		--listen-client-urls "http://$ETCD" --advertise-client-urls "http://$ETCD" \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster scale=http://127.0.0.1:2380 --initial-cluster-state new \
		>"$shm/etcd.log" 2>&1 &
	ETCD_PID=$!
	track_pid "$ETCD_PID"
	for _ in $(seq 150); do in_h curl -sf "http://$ETCD/health" >/dev/null && break; sleep 0.1; done
	in_h $TOOL config "$ETCD"
}
teardown() {
	kill "$AGENT" "$ETCD_PID" 2>/dev/null
	wait "$AGENT" "$ETCD_PID" 2>/dev/null
	ip netns del "$H"
}

# Resyncs the agent finished so far (its debug line).
resyncs() { grep -c 'debug: resync:' "$shm/agent.log"; }
# start_agent STORE: sets AGENT and READY_MS (start -> ready, every peer in).
start_agent() {
	local start=$(now_ms)
	ip netns exec "$H" "$OVLCTL" --verbose --store "$1" run --node scale --iface eth0 \
		--subnet-file "$shm/subnet.env" --resync "$RESYNC" --listen 127.0.0.1:9124 \
		>"$shm/agent.log" 2>&1 &
	AGENT=$!
	track_pid "$AGENT"
	until grep -q 'notice: ready' "$shm/agent.log"; do
		kill -0 "$AGENT" 2>/dev/null || { echo "scale: the agent failed:"; cat "$shm/agent.log"; exit 1; }
		sleep 0.002
	done
	READY_MS=$(ms_since "$start")
}

declare -A R
measure_etcd() {
	local n=$1 before cpu0 ecpu0 req wall ccpu start synced
	setup "$n"
	in_h $TOOL write "$ETCD" 256 "$n"
	start_agent "etcd://$ETCD"
	[ "$(peers_in_kernel)" -eq "$n" ] || echo "scale: ready with $(peers_in_kernel) of $n peers"
	R[$n,ready]=$READY_MS
	sleep $(( RESYNC + 1 ))
	before=$(in_h $TOOL requests "$ETCD")
	cpu0=$(cpu_ns "$AGENT")
	ecpu0=$(etcd_cpu_ms "$ETCD_PID")
	synced=$(resyncs)
	sleep "$IDLE"
	req=$(( $(in_h $TOOL requests "$ETCD") - before ))
	R[$n,resyncs]=$(( $(resyncs) - synced ))
	R[$n,req]=$(awk -v r="$req" -v n="${R[$n,resyncs]}" 'BEGIN { printf "%.1f", r / n }')
	R[$n,cpu]=$(awk -v c="$(( $(cpu_ns "$AGENT") - cpu0 ))" -v n="${R[$n,resyncs]}" \
		'BEGIN { printf "%.2f", c / 1e6 / n }')
	R[$n,idle]=$(awk -v c="$(( $(cpu_ns "$AGENT") - cpu0 ))" -v s="$IDLE" \
		'BEGIN { printf "%.0f ms (%.3f%%)", c / 1e6, c / 1e7 / s }')
	R[$n,etcd]=$(awk -v a="$ecpu0" -v b="$(etcd_cpu_ms "$ETCD_PID")" -v n="${R[$n,resyncs]}" \
		'BEGIN { printf "%.1f", (b - a) / n }')
	# 1,000 nodes leave, then 1,000 join (their etcd leases granted first:
	# the agent sees the puts).
	start=$(in_h $TOOL delete "$ETCD" $(( 256 + n - CHURN )) "$CHURN")
	R[$n,writes_del]=$(ms_since "$start")
	wait_peers $(( n - CHURN ))
	R[$n,del]=$(ms_since "$start")
	in_h $TOOL grant "$ETCD" "$CHURN" "$shm/ids"
	start=$(in_h $TOOL put "$ETCD" $(( 256 + n - CHURN )) "$shm/ids")
	R[$n,writes_add]=$(ms_since "$start")
	wait_peers "$n"
	R[$n,add]=$(ms_since "$start")
	sleep $(( 2 * RESYNC + 1 ))
	R[$n,listings]=$(in_h curl -sf http://127.0.0.1:9124/metrics |
		awk '$1 == "ovl_store_listings_total" { print $2 }')
	R[$n,rss]=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/"$AGENT"/status)
	R[$n,hwm]=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/"$AGENT"/status)
	# flanneld's pattern on the same etcd, the agent stopped.
	kill "$AGENT"; wait "$AGENT" 2>/dev/null
	before=$(in_h $TOOL requests "$ETCD")
	ecpu0=$(etcd_cpu_ms "$ETCD_PID")
	read -r wall ccpu < <(in_h $TOOL flanneld "$ETCD" "$FLANNELD_ROUNDS" 0.2)
	R[$n,f_req]=$(awk -v r="$(( $(in_h $TOOL requests "$ETCD") - before ))" \
		-v n="$FLANNELD_ROUNDS" 'BEGIN { printf "%.1f", r / n }')
	R[$n,f_etcd]=$(awk -v a="$ecpu0" -v b="$(etcd_cpu_ms "$ETCD_PID")" -v n="$FLANNELD_ROUNDS" \
		'BEGIN { printf "%.1f", (b - a) / n }')
	R[$n,f_wall]=$wall
	R[$n,f_cpu]=$ccpu
	teardown
}

measure_file() {
	local n=$1 cpu0 synced
	H=$(ns_add "f$n")
	underlay
	$TOOL file "$shm/store.json" "$n"
	rm -f "$shm/subnet.env"
	start_agent "file://$shm/store.json"
	R[file,ready]=$READY_MS
	sleep 1
	cpu0=$(cpu_ns "$AGENT")
	synced=$(resyncs)
	sleep "$IDLE"
	R[file,cpu]=$(awk -v c="$(( $(cpu_ns "$AGENT") - cpu0 ))" -v n="$(( $(resyncs) - synced ))" \
		'BEGIN { printf "%.2f", c / 1e6 / n }')
	R[file,listings]=$(in_h curl -sf http://127.0.0.1:9124/metrics |
		awk '$1 == "ovl_store_listings_total" { print $2 }')
	kill "$AGENT"; wait "$AGENT" 2>/dev/null
	ip netns del "$H"
}

for n in $SIZES; do
	rm -f "$shm/subnet.env"
	measure_etcd "$n"
done
largest=${SIZES##* }
measure_file "$largest"

printf 'scale: etcd %s, resync every %d s, idle window %d s, load before %s, after %s\n' \
	"$(etcd --version | awk 'NR == 1 { print $3 }')" "$RESYNC" "$IDLE" "${LOAD0:-?}" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
	printf '\nN = %d leases                  libovl agent      flanneld pattern   ratio\n' "$n"
	printf '  start -> ready (all peers)   %8s ms       %8s ms (one listing with TTLs, no kernel)\n' \
		"${R[$n,ready]}" "${R[$n,f_wall]}"
	printf '  etcd requests per resync     %8s          %8s         %sx\n' "${R[$n,req]}" \
		"${R[$n,f_req]}" "$(awk -v a="${R[$n,f_req]}" -v b="${R[$n,req]}" 'BEGIN { printf "%.0f", a / (b ? b : 1) }')"
	printf '  etcd CPU per resync          %8s ms       %8s ms\n' "${R[$n,etcd]}" "${R[$n,f_etcd]}"
	printf '  client CPU per resync        %8s ms       %8s ms (python client)\n' "${R[$n,cpu]}" "${R[$n,f_cpu]}"
	printf '  idle agent CPU over %d s     %s, %d resyncs\n' "$IDLE" "${R[$n,idle]}" "${R[$n,resyncs]}"
	printf '  %d removals in the kernel   %8s ms (from the first write; writes %s ms)\n' "$CHURN" "${R[$n,del]}" "${R[$n,writes_del]}"
	printf '  %d additions in the kernel  %8s ms (from the first write; writes %s ms)\n' "$CHURN" "${R[$n,add]}" "${R[$n,writes_add]}"
	printf '  resyncs that listed all      %8s          (idle, churn and 2 resyncs after it)\n' \
		"${R[$n,listings]:-?}"
	printf '  agent RSS                    %8s MiB (peak %s MiB)\n' "${R[$n,rss]}" "${R[$n,hwm]}"
done
printf '\nfile store, N = %d: start -> ready %s ms, agent CPU per resync %s ms, resyncs that listed all %s\n' \
	"$largest" "${R[file,ready]}" "${R[file,cpu]}" "${R[file,listings]:-?}"
