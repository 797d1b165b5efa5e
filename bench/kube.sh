#!/bin/bash
# kube.sh - one agent (`ovlctl run --kube-subnet-mgr`, resync every 5 s)
# joining a cluster of N Nodes on a real kube-apiserver (with etcd, in a
# switch namespace; built once from Debian's source by tests/netns/lib-kube.sh),
# for each N: the Nodes are made through the API first (bench/kube-nodes.py,
# 8 connections at once), annotated as flanneld leaves them.  Measured: start
# -> ready with every peer in the kernel; the requests the agent made to
# start; the requests per minute while idle over IDLE s and the relists
# (LIST) among them, from the apiserver's own apiserver_request_total, and
# the agent's own count of relists; the agent's RSS.  The baseline, in the
# same run: one `list nodes` (unpaged) with curl, best of three.
# Goal at 5,000: ready under 2 s, no relist while idle.
#
#   sudo bench/kube.sh [N...]      (default 1000 5000, growing; IDLE=60 s)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/netns/lib.sh"
. "$top/tests/netns/lib-etcd.sh"
. "$top/tests/netns/lib-kube.sh"
cleanup() {
	t_cleanup
	rm -rf "$ETCD_SHM"
}
trap 'exit 130' INT TERM
trap cleanup EXIT
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
[ -x "$OVLCTL" ] || { echo "kube: build first ($OVLCTL missing)"; exit 1; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
SIZES=${*:-1000 5000}
IDLE=${IDLE:-60}
API_IP=192.168.80.1
KC=$T_TMP/kubeconfig
NC=$T_TMP/net-conf.json
PORT=9124

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
in_h() { ip netns exec "$H" "$@"; }
peers_in_kernel() { ip -n "$H" route show dev flannel.1 2>/dev/null | grep -c onlink; }
metric() { in_h curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# baseline: ms of one unpaged `list nodes` with curl (best of three) and its size
list_nodes() {
	local i best= t size
	for i in 1 2 3; do
		read -r t size < <(ip netns exec "$sw" curl -sf -o /dev/null -w '%{time_total} %{size_download}\n' \
			--cacert "$KUBE_DIR/ca.crt" -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" \
			"$KUBE_URL/api/v1/nodes")
		t=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	echo "$best $size"
}
counts() { echo "$(kube_requests LIST) $(kube_requests GET) $(kube_requests WATCH) $(kube_requests PATCH nodes status)"; }

sw=$(underlay_add)
ip -n "$sw" addr add "$API_IP/24" dev br0
kube_start "$sw" "$API_IP" 6443 || { echo "kube: the apiserver did not start"; exit 1; }
kube_kubeconfig "$KC" admin
H=$(host_add "$sw" h1 192.168.80.2/24)
echo '{"Network":"10.0.0.0/8","Backend":{"Type":"vxlan"}}' > "$NC"
kube_node_create agent 10.255.255.0/24

echo "kube-apiserver $("$KUBE_CACHE/kube-apiserver" --version | awk '{print $2}'), load before: $LOAD0, idle window ${IDLE}s"
printf '%-6s %-9s %-16s %-11s %-7s %-27s %-13s %-16s %s\n' nodes created "list (curl)" ready ratio \
	"start: LIST/GET/WATCH/PATCH" "idle req/min" "idle relists" "RSS MiB"
created=0
for n in $SIZES; do
	[ "$n" -gt "$created" ] || continue
	secs=$(ip netns exec "$sw" python3 "$top/bench/kube-nodes.py" "$KUBE_URL" "$KUBE_DIR/ca.crt" \
		"$KUBE_ADMIN_TOKEN" "$created" "$n" 8) || exit 1
	created=$n
	read -r list_ms list_bytes < <(list_nodes)

	ip -n "$H" link del flannel.1 2>/dev/null	# a fresh host joins
	read -r l0 g0 w0 p0 < <(counts)
	log=$T_TMP/agent-$n.log
	start=$(now_ms)
	ip netns exec "$H" "$OVLCTL" run --kube-subnet-mgr --kubeconfig-file "$KC" --net-config-path "$NC" \
		--node agent --iface eth0 --subnet-file "$T_TMP/agent.env" --resync 5 \
		--listen "$PORT" > "$log" 2>&1 &
	pid=$!
	track_pid "$pid"
	until grep -q 'notice: ready' "$log" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
		[ $(( $(now_ms) - start )) -gt 60000 ] && { echo "kube: not ready in 60 s"; exit 1; }
		sleep 0.005
	done
	ready=$(( $(now_ms) - start ))
	peers=$(peers_in_kernel)
	[ "$peers" -eq "$n" ] || { echo "kube: $peers peers in the kernel, want $n"; exit 1; }
	read -r l1 g1 w1 p1 < <(counts)

	all0=$(kube_requests '*')
	sleep "$IDLE"
	all1=$(kube_requests '*')
	l2=$(kube_requests LIST)
	relists=$(metric ovl_store_watch_relists_total)
	rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
	kill "$pid"
	wait "$pid" 2>/dev/null

	printf '%-6s %-9s %-16s %-11s %-7s %-27s %-13s %-16s %s\n' "$n" "${secs}s" \
		"$list_ms ms $((list_bytes / 1024)) KiB" "$ready ms" \
		"$(awk -v a="$ready" -v b="$list_ms" 'BEGIN { printf "%.1fx", a / b }')" \
		"$((l1 - l0))/$((g1 - g0))/$((w1 - w0))/$((p1 - p0))" \
		"$(awk -v d=$((all1 - all0)) -v s="$IDLE" 'BEGIN { printf "%.1f", d * 60 / s }')" \
		"$((l2 - l1)) (agent: ${relists:-?})" "$rss"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "goal at 5,000: ready < 2000 ms, 0 relists while idle"
