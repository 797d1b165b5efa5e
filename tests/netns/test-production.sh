#!/bin/bash
# test-production.sh - `ovlctl run` as an operator runs it: --listen's
# /healthz, /readyz and /metrics and systemd's notification protocol
# through the agent's states, on a real etcd inside the test's namespaces.
# The agent starts while etcd is down (starting: 503, no READY=1), comes up
# with etcd (READY=1, and only once subnet.env exists), loses its lease to
# a reservation of the network's only subnet (503 "lease lost") and gets it
# back, then etcd stops (the watchdog keeps pinging, /healthz stays 200,
# /readyz turns 503 when the lease expires unrenewed, the store errors are
# counted) and returns.  Every /metrics answer passes `promtool check
# metrics` (tests/tools/check-metrics.py where promtool is missing).  A udp
# agent's metrics carry the link counters.  The systemd side is a datagram
# socket of the test's own, as NOTIFY_SOCKET.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-etcd.sh"
cleanup() { t_cleanup; rm -rf "$ETCD_SHM"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
for tool in curl python3; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; t_finish; exit; }
done
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"

ETCD_IP=192.168.77.1
store="etcd://$ETCD_IP:2379"
KEY=/coreos.com/network/subnets/10.244.1.0-24
PORT=9124
ENV_FILE=$T_TMP/h1.env

etcd_start() {
	ip netns exec "$sw" etcd --name prod --data-dir "$ETCD_SHM/data" \
		--listen-client-urls "http://$ETCD_IP:2379" --advertise-client-urls "http://$ETCD_IP:2379" \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster prod=http://127.0.0.1:2380 --initial-cluster-state new \
		>> "$T_TMP/etcd.log" 2>&1 &
	ETCD_PID=$!
	track_pid "$ETCD_PID"
}
ectl() { ip netns exec "$sw" etcdctl --endpoints="$ETCD_IP:2379" "$@"; }
etcd_healthy() { ectl endpoint health >/dev/null 2>&1; }

# http PATH: the status code and body of GET PATH on h1's loopback, in
# $T_TMP/body; prints the code.
http() { ip netns exec "$h1" curl -s -m 2 -o "$T_TMP/body" -w '%{http_code}' "http://127.0.0.1:$PORT$1"; }
answers() { [ "$(http "$1")" = "$2" ] && { [ -z "${3:-}" ] || grep -q -- "$3" "$T_TMP/body"; }; }
# metric NAME: its value in the last /metrics answer saved as $T_TMP/metrics
metric() { awk -v n="$1" '$1 == n { print $2 }' "$T_TMP/metrics"; }
scrape() { http /metrics > "$T_TMP/code" && [ "$(cat "$T_TMP/code")" = 200 ] && cp "$T_TMP/body" "$T_TMP/metrics"; }
metric_at_least() { scrape && [ "$(metric "$1" | cut -d. -f1)" -ge "$2" ]; }
valid_metrics() {
	if command -v promtool >/dev/null; then
		promtool check metrics < "$1"
	else
		python3 "$OVL_TOP/tests/tools/check-metrics.py" < "$1"
	fi
}

# The systemd side: every datagram on NOTIFY_SOCKET as one line "MS ENV TEXT"
# (monotonic ms, 1 when subnet.env existed as it arrived, newlines as |).
# It stops by itself after 10 minutes at most.
python3 - "$T_TMP/notify.sock" "$ENV_FILE" "$T_TMP/notify.log" <<'EOF' &
import os, socket, sys, time
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
sock.settimeout(1)
with open(sys.argv[3], 'a') as log:
    end = time.monotonic() + 600
    while time.monotonic() < end:
        try:
            data = sock.recv(4096).decode()
        except socket.timeout:
            continue
        log.write('%d %d %s\n' % (time.monotonic() * 1000, os.path.exists(sys.argv[2]),
                                  data.replace('\n', '|')))
        log.flush()
EOF
track_pid $!
wait_for 5 test -S "$T_TMP/notify.sock"
notified() { grep -q -- "$1" "$T_TMP/notify.log"; }
pings_since() { awk -v t="$1" '$1 >= t && /WATCHDOG=1/' "$T_TMP/notify.log" | wc -l; }
now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }

sw=$(underlay_add)
ip -n "$sw" addr add "$ETCD_IP/24" dev br0
h1=$(host_add "$sw" h1 192.168.77.11/24)
# One subnet only: a reservation of it leaves the agent nothing to take.
cat > "$T_TMP/net-conf.json" <<'EOF'
{ "Network": "10.244.0.0/16", "SubnetMin": "10.244.1.0", "SubnetMax": "10.244.1.0",
  "Backend": { "Type": "vxlan" } }
EOF

# ---- starting: etcd is not there yet ----------------------------------------
NOTIFY_SOCKET="$T_TMP/notify.sock" WATCHDOG_USEC=1000000 \
	ip netns exec "$h1" "$OVLCTL" --store "$store" --config "$T_TMP/net-conf.json" run \
	--node h1 --iface eth0 --subnet-file "$ENV_FILE" --ttl 8 --renew-margin 4 \
	--listen "127.0.0.1:$PORT" > "$T_TMP/h1.log" 2>&1 &
AGENT=$!
track_pid "$AGENT"
check "starting: /healthz answers 200" wait_for 5 answers /healthz 200 ok
check "starting: /readyz answers 503 with the reason" answers /readyz 503 "starting: waiting for the store"
check "starting: /metrics answers 503" answers /metrics 503 starting
check "starting: an unknown path answers 404" answers /nothing 404
check "starting: STATUS= says what it waits for" wait_for 3 notified "STATUS=starting: waiting for the store"
check_fails "starting: no READY=1 before the agent is ready" notified "READY=1"
check "starting: watchdog pings while waiting for the store" wait_for 3 notified "WATCHDOG=1"

# ---- ready ----------------------------------------------------------------------
etcd_start
check "etcd starts" wait_for 15 etcd_healthy
check "ready: /readyz answers 200" wait_for 15 answers /readyz 200 "ready: subnet 10.244.1.0/24"
check "ready: READY=1 arrived" wait_for 3 notified "READY=1"
ready_line=$(grep "READY=1" "$T_TMP/notify.log" | head -1)
check "ready: READY=1 arrived only after subnet.env was written" test "$(echo "$ready_line" | awk '{print $2}')" = 1
check "ready: READY=1 came with the STATUS line" grep -q 'READY=1|STATUS=ready: subnet 10.244.1.0/24' <<< "$ready_line"
check "ready: READY=1 was sent once" test "$(grep -c 'READY=1' "$T_TMP/notify.log")" -eq 1
check "ready: /metrics answers 200" scrape
check "ready: promtool accepts the metrics" valid_metrics "$T_TMP/metrics"
check "ready: the metrics name the node" grep -q 'ovl_node_info{backend="vxlan",device="flannel.1",subnet="10.244.1.0/24"' "$T_TMP/metrics"
check "ready: ovl_node_ready 1, ovl_lease_held 1" test "$(metric ovl_node_ready) $(metric ovl_lease_held)" = "1 1"
check "ready: the lease expires in the future" test "$(metric ovl_lease_expiry_timestamp_seconds)" -gt "$(date +%s)"
check "ready: a resync was timed" test "$(metric ovl_resync_duration_seconds_count)" -ge 1
check "ready: the last sync is recent" test $(( $(date +%s) - $(metric ovl_last_sync_timestamp_seconds) )) -lt 30
check "ready: renewals are counted" wait_for 8 metric_at_least ovl_lease_renewals_total 1
check "ready: the agent's process has one thread (MHD runs none)" \
	test "$(ls /proc/$AGENT/task | wc -l)" -eq 1
check "ready: HEAD works, POST is refused" sh -c \
	"ip netns exec '$h1' curl -s -I -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/healthz | grep -q 200 &&
	 ip netns exec '$h1' curl -s -X POST -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/healthz | grep -q 405"

# ---- lease lost: a reservation takes the only subnet ---------------------------------
ectl put "$KEY" '{"PublicIP":"192.168.77.99","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0e:00:00:00:00:99"}}' >/dev/null
check "lease lost: /readyz answers 503 with the reason" wait_for 5 answers /readyz 503 "lease lost"
check "lease lost: /healthz still answers 200" answers /healthz 200
check "lease lost: STATUS= says so" wait_for 3 notified "STATUS=lease lost"
lost_in_metrics() { scrape && [ "$(metric ovl_lease_held) $(metric ovl_lease_losses_total)" = "0 1" ]; }
check "lease lost: ovl_lease_held 0, ovl_lease_losses_total 1" lost_in_metrics
check "lease lost: promtool accepts the metrics" valid_metrics "$T_TMP/metrics"
ectl del "$KEY" >/dev/null
check "lease back: /readyz answers 200" wait_for 20 answers /readyz 200 "ready: subnet 10.244.1.0/24"
check "lease back: re-acquisition counted" metric_at_least ovl_lease_reacquisitions_total 1

# ---- store down ------------------------------------------------------------------------
etcd_stop "$ETCD_PID"
down_at=$(now_ms)
check "store down: /readyz 200 while the lease is still valid" answers /readyz 200 ready
check "store down: /healthz answers 200" answers /healthz 200
check "store down: /readyz 503 once the lease expired unrenewed" wait_for 15 answers /readyz 503 "lease expired"
check "store down: STATUS= says so" notified "STATUS=lease expired"
check "store down: /healthz still answers 200" answers /healthz 200
pings=$(pings_since "$down_at")
check "store down: watchdog pings kept coming ($pings in $(( ($(now_ms) - down_at) / 1000 )) s, period 0.5 s)" \
	test "$pings" -ge $(( ($(now_ms) - down_at) / 1000 ))
check "store down: /metrics answers 200" scrape
check "store down: promtool accepts the metrics" valid_metrics "$T_TMP/metrics"
# A renewal retries within the store's timeout (5 s) before it fails.
check "store down: renewal failures counted" wait_for 10 metric_at_least ovl_lease_renewal_failures_total 1
check "store down: unreachable renewals counted by kind" \
	grep -Eq '^ovl_store_request_errors_total\{request="renew",error="(unreachable|timeout)"\} [1-9]' "$T_TMP/metrics"
check "store down: watch reconnects counted" test "$(metric ovl_store_watch_reconnects_total)" -ge 1
check "store down: the agent runs on" kill -0 "$AGENT"
etcd_start
check "store back: etcd is healthy" wait_for 15 etcd_healthy
check "store back: /readyz answers 200" wait_for 30 answers /readyz 200 "ready: subnet 10.244.1.0/24"

# ---- --listen's errors ---------------------------------------------------------------
check "a second agent on the same port fails with status 1" sh -c \
	"ip netns exec '$h1' '$OVLCTL' --store '$store' --config '$T_TMP/net-conf.json' run --node h9 \
	 --iface eth0 --subnet-file '$T_TMP/h9.env' --listen 127.0.0.1:$PORT 2>'$T_TMP/busy.err'; [ \$? = 1 ]"
check "  and says that it cannot listen" grep -q "cannot listen" "$T_TMP/busy.err"
check_fails "--listen :PORT is refused (name the address)" "$OVLCTL" run --listen ":$PORT"

# ---- stop --------------------------------------------------------------------------------
kill -TERM "$AGENT"
wait "$AGENT"; rc=$?
check "SIGTERM: the agent exits 0" test "$rc" -eq 0
check "SIGTERM: STOPPING=1 was sent" wait_for 2 notified "STOPPING=1"

# ---- udp: the link's counters -------------------------------------------------------------
h2=$(host_add "$sw" h2 192.168.77.12/24)
echo '{ "Network": "10.245.0.0/16", "Backend": { "Type": "udp" } }' > "$T_TMP/udp.json"
ovlctl_bg "$h2" "$T_TMP/h2.log" --store "file:$T_TMP/udp-store.json" --config "$T_TMP/udp.json" \
	run --node h2 --iface eth0 --subnet-file "$T_TMP/h2.env" --listen "$PORT"
h1=$h2		# http() asks h2's loopback from here on
check "udp: /readyz answers 200" wait_for 10 answers /readyz 200 ready
check "udp: /metrics answers 200" scrape
check "udp: promtool accepts the metrics" valid_metrics "$T_TMP/metrics"
check "udp: the link's counters are there" grep -q '^ovl_udp_packets_total{device="flannel0",direction="out"} ' "$T_TMP/metrics"
check "udp: drops by reason" grep -q '^ovl_udp_dropped_packets_total{device="flannel0",reason="no_route"} ' "$T_TMP/metrics"

if [ "$T_FAILED" -gt 0 ] || [ -n "${OVL_SHOW_LOGS:-}" ]; then
	echo "--- h1 agent log"; cat "$T_TMP/h1.log"
	echo "--- notifications"; cat "$T_TMP/notify.log"
	echo "--- last metrics"; cat "$T_TMP/metrics" 2>/dev/null
	echo "--- h2 agent log"; cat "$T_TMP/h2.log" 2>/dev/null
fi
t_finish
