#!/bin/bash
# demo.sh - README command 1: a flannel-style VXLAN overlay between three
# "hosts" (network namespaces on one switch), each running the embedded agent
# `ovlctl run` on one shared store, with a "pod" behind each.  Prints
# the lease table, every host's peers, a pod-to-pod ping matrix and how long
# each host took to become reachable; then churn: a fourth host joins, one
# leaves.  Run as root on Debian 12; installs and builds what is missing.
# Everything it makes (namespaces, processes, temp files) goes away at the
# end, also on failure or Ctrl-C; the root namespace is never touched.
#
# The store is the embedded file store, or with --store etcd a real etcd
# (Debian's etcd-server) that runs inside the switch namespace on the
# underlay (192.168.77.1:2379, data on tmpfs) as in a cluster: the network
# config is put there with `ovlctl config put`, the agents read it from etcd
# (no --config) and their leases are flannel's keys, shown with etcdctl.
# With --store kube, a real kube-apiserver (built once from Debian's source
# into /var/cache/libovl-kube, ~5 min the first time; tests/netns/lib-kube.sh)
# and its etcd run there instead (192.168.77.1:6443): each host is a Node
# whose pod CIDR is its lease, the agents run as kube-flannel's DaemonSet
# runs flanneld (--kube-subnet-mgr), and a host leaving is its Node deleted.
#
#   examples/demo.sh                  as root; OVL_BUILD=DIR to use another build
#   examples/demo.sh --store etcd     the same demo on etcd
#   examples/demo.sh --store kube     the same demo on Kubernetes
# Started by another user it runs itself again through sudo.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
kind=file
case "$*" in
	"" | "--store file") ;;
	"--store etcd") kind=etcd ;;
	"--store kube") kind=kube ;;
	*) echo "usage: $0 [--store file|etcd|kube]" >&2; exit 2 ;;
esac

fail() { echo "demo: FAILED: $*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null && exec sudo -E "$0" "$@"
	echo "demo: run as root (it creates network namespaces); sudo is not installed" >&2
	exit 1
fi

say "dependencies"
"$top/tests/install-deps.sh" || fail "installing packages (tests/install-deps.sh)"
echo "all packages present"

say "build"
build=${OVL_BUILD:-$top/build}
if [ ! -f "$build/Makefile" ]; then
	if [ ! -x "$top/configure" ]; then
		(cd "$top" && autoreconf -fi) || fail "autoreconf"
	fi
	mkdir -p "$build" && (cd "$build" && "$top/configure" -q) || fail "configure"
fi
make -C "$build" -j2 -s ovlctl >/dev/null || fail "make (in $build)"
echo "ovlctl built in $build"
export OVL_BUILD="$build"

# Namespaces, cleanup traps, host_add/pod_add/track_pid/wait_for.
# shellcheck source=../tests/netns/lib.sh
. "$top/tests/netns/lib.sh"
# lib.sh records namespaces made inside $(...) in a subshell, so remove
# ours by their unique prefix as well.
etcd_data=""
if [ "$kind" = kube ]; then
	say "kube-apiserver (built once into the cache when missing)"
	# shellcheck source=../tests/netns/lib-etcd.sh
	. "$top/tests/netns/lib-etcd.sh"
	# shellcheck source=../tests/netns/lib-kube.sh
	. "$top/tests/netns/lib-kube.sh"
	etcd_data=$ETCD_SHM
fi
cleanup() {
	# the apiserver takes seconds to stop: waited for, not killed
	[ -z "${KUBE_PID:-}" ] || kube_stop
	t_cleanup
	[ -z "$etcd_data" ] || rm -rf "$etcd_data"
}
trap 'echo; echo "demo: interrupted, cleaning up" >&2; exit 130' INT TERM
trap 'rc=$?; cleanup; [ "$rc" -eq 0 ] && echo "demo: cleaned up" || echo "demo: cleaned up (exit $rc)"; exit $rc' EXIT

# The real binary, not libtool's wrapper script (half a second per start).
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
store="file:$T_TMP/leases.json"
conf="$T_TMP/net-conf.json"
agent_conf=(--config "$conf")	# on etcd the agents read the config from the store
run_flags=()			# on Kubernetes, flanneld's
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# In the switch namespace: an etcd store is reachable only on the underlay.
ctl() { ip netns exec "$sw" "$OVLCTL" --store "$store" --config "$conf" "$@"; }
env_value() { sed -n "s/^$2=//p" "$T_TMP/$1.env" 2>/dev/null; }

declare -A HOST POD PODIP STARTED READY PLUGGED AGENT
NAMES=()

# start_host N: host namespace hN at 192.168.77.1N and its agent.
start_host() {
	local n=$1 name="h$1"
	HOST[$name]=$(host_add "$sw" "$name" "192.168.77.1$n/24") || fail "creating host $name"
	STARTED[$name]=$(now_ms)
	[ "$kind" != kube ] || kube_node_create "$name" "10.244.$n.0/24" ||
		fail "creating the Node $name"
	ip netns exec "${HOST[$name]}" "$OVLCTL" --store "$store" "${agent_conf[@]}" run "${run_flags[@]}" \
		--node "$name" --iface eth0 --subnet-file "$T_TMP/$name.env" --teardown \
		> "$T_TMP/$name.log" 2>&1 &
	AGENT[$name]=$!
	track_pid "${AGENT[$name]}"
	NAMES+=("$name")
}

# finish_host NAME: waits for subnet.env (the readiness signal), then plugs
# a pod into the host's bridge the way the bridge CNI plugin would.
finish_host() {
	local name=$1 subnet gw mtu
	wait_for 10 test -s "$T_TMP/$name.env" ||
		{ cat "$T_TMP/$name.log" >&2; fail "$name: agent not ready within 10 s"; }
	# subnet.env is written last: its mtime is the moment the agent was ready.
	READY[$name]=$(( $(stat -c %.3Y "$T_TMP/$name.env" | tr -d .) ))
	subnet=$(env_value "$name" FLANNEL_SUBNET)	# 10.244.X.1/24
	mtu=$(env_value "$name" FLANNEL_MTU)
	gw=${subnet%/*}
	PODIP[$name]=${gw%.*}.$(( ${gw##*.} + 1 ))
	POD[$name]=$(pod_add "${HOST[$name]}" "p$name" "${PODIP[$name]}/${subnet#*/}" "$gw" "$mtu") ||
		fail "$name: creating its pod"
	PLUGGED[$name]=$(now_ms)
}

# reachable NAME: every other live pod reaches NAME's pod.
reachable() {
	local src
	for src in "${NAMES[@]}"; do
		[ "$src" = "$1" ] && continue
		ip netns exec "${POD[$src]}" ping -c1 -W0.3 -q "${PODIP[$1]}" >/dev/null 2>&1 || return 1
	done
}

# wait_reachable NAMES...: prints when, counted from its agent's start, each
# host was ready (subnet.env written), got its pod (what this script does in
# CNI's place), and was reached from every other pod.
wait_reachable() {
	local name t
	for name in "$@"; do
		wait_for 10 reachable "$name" || fail "$name's pod is not reachable from every other pod"
		t=$(now_ms)
		printf '  %-4s subnet %-16s agent ready %5d ms, pod plugged in %5d ms, reachable from all pods %5d ms after start\n' \
			"$name" "$(env_value "$name" FLANNEL_SUBNET)" $(( READY[$name] - STARTED[$name] )) \
			$(( PLUGGED[$name] - STARTED[$name] )) $(( t - STARTED[$name] ))
	done
}

print_peers() {
	local name
	for name in "${NAMES[@]}"; do
		echo "-- $name (${HOST[$name]}):"
		ip netns exec "${HOST[$name]}" "$OVLCTL" --store "$store" --config "$conf" \
			status --subnet-file "$T_TMP/$name.env" --node "$name" | sed 's/^/   /' ||
			fail "$name: ovlctl status says not ready"
	done
}

ping_matrix() {
	local src dst out rtt
	printf '%-8s' "from\\to"
	for dst in "${NAMES[@]}"; do printf '%14s' "$dst ${PODIP[$dst]##*.}"; done
	echo
	for src in "${NAMES[@]}"; do
		printf '%-8s' "$src"
		for dst in "${NAMES[@]}"; do
			if [ "$src" = "$dst" ]; then printf '%14s' "-"; continue; fi
			out=$(ip netns exec "${POD[$src]}" ping -c3 -i0.2 -W1 -q "${PODIP[$dst]}" 2>&1) ||
				{ echo; fail "ping ${PODIP[$dst]} from $src's pod: $(echo "$out" | tail -2)"; }
			rtt=$(echo "$out" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
			printf '%14s' "${rtt} ms"
		done
		echo
	done
}

# etcd on the underlay: clients reach it at 192.168.77.1 on the switch's
# bridge; its peer URL stays on the switch namespace's loopback.
ectl() { ETCDCTL_API=3 ip netns exec "$sw" etcdctl --endpoints=192.168.77.1:2379 "$@"; }
start_etcd() {
	local pid
	etcd_data=$(mktemp -d /dev/shm/ovl-demo-etcd.XXXXXX) || fail "mktemp"
	ip -n "$sw" addr add 192.168.77.1/24 dev br0 || fail "addressing the switch's bridge"
	ip netns exec "$sw" etcd --name demo --data-dir "$etcd_data/data" \
		--listen-client-urls http://192.168.77.1:2379 \
		--advertise-client-urls http://192.168.77.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster demo=http://127.0.0.1:2380 \
		--initial-cluster-state new > "$T_TMP/etcd.log" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_for 15 ectl endpoint health ||
		{ tail -20 "$T_TMP/etcd.log" >&2; fail "etcd not healthy within 15 s"; }
	store=etcd://192.168.77.1:2379
	echo "etcd $(etcd --version | sed -n 's/^etcd Version: //p') (PID $pid) in the switch namespace on 192.168.77.1:2379"
}

# The apiserver on the underlay, as a control-plane host; the agents get
# flanneld's DaemonSet flags (the store URI is built from them).
start_kube() {
	ip -n "$sw" addr add 192.168.77.1/24 dev br0 || fail "addressing the switch's bridge"
	kube_start "$sw" 192.168.77.1 6443 || fail "kube-apiserver not ready (log: $T_TMP/kube-apiserver.log)"
	kube_kubeconfig "$T_TMP/kubeconfig" admin
	store="kube:$T_TMP/kubeconfig?net-config-path=$conf"
	agent_conf=()
	run_flags=(--kube-subnet-mgr --kubeconfig-file "$T_TMP/kubeconfig" --net-config-path "$conf")
	echo "kube-apiserver $("$KUBE_CACHE/kube-apiserver" --version | awk '{print $2}') (PID $KUBE_PID) and its etcd in the switch namespace, $KUBE_URL"
	echo "each host's Node is created before its agent starts, its pod CIDR assigned as kube-controller-manager would"
}
nodes_table() {
	ip netns exec "$sw" "$KUBECTL_BIN" --kubeconfig "$T_TMP/kubeconfig" get nodes -o \
		'custom-columns=NODE:.metadata.name,POD CIDR:.spec.podCIDR,PUBLIC-IP:.metadata.annotations.flannel\.alpha\.coreos\.com/public-ip,BACKEND-DATA:.metadata.annotations.flannel\.alpha\.coreos\.com/backend-data' |
		sed 's/^/   /'
}

say "network: a switch and three hosts (namespaces), one store, net-conf.json"
sw=$(underlay_add) || fail "creating the switch namespace"
cat > "$conf" <<'EOF'
{ "Network": "10.244.0.0/16", "SubnetLen": 24, "Backend": { "Type": "vxlan", "VNI": 1 } }
EOF
cat "$conf"
[ "$kind" != kube ] || start_kube
if [ "$kind" = etcd ]; then
	start_etcd
	ctl config put "$conf" ||
		fail "ovlctl config put (the network config into etcd)"
	agent_conf=()
	echo "put at /coreos.com/network/config: $(ectl get --print-value-only /coreos.com/network/config)"
fi
echo "store: $store"

say "starting ovlctl run in h1, h2, h3"
for n in 1 2 3; do start_host "$n"; done
for name in h1 h2 h3; do finish_host "$name"; done
wait_reachable h1 h2 h3

say "lease table"
ctl lease list || fail "ovlctl lease list"
if [ "$kind" = etcd ]; then
	echo "-- in etcd: etcdctl get --prefix /coreos.com/network/subnets/"
	ectl get --prefix /coreos.com/network/subnets/ | sed 's/^/   /'
fi
if [ "$kind" = kube ]; then
	echo "-- the Nodes and flanneld's annotations the agents wrote (kubectl get nodes):"
	nodes_table
fi

say "each host's agent state and peers (ovlctl status)"
print_peers

say "pod-to-pod ping matrix (average RTT of 3 pings)"
ping_matrix

say "churn: h4 joins"
start_host 4
finish_host h4
wait_reachable h4

if [ "$kind" = kube ]; then
	say "churn: h2 leaves (SIGTERM, device removed; its Node deleted: kubectl delete node h2)"
else
	say "churn: h2 leaves (SIGTERM; started with --teardown: lease released, device removed)"
fi
left_subnet=$(env_value h2 FLANNEL_SUBNET)
left_subnet="${left_subnet%.*}.0/${left_subnet#*/}"
t0=$(now_ms)
kill -TERM "${AGENT[h2]}"
wait "${AGENT[h2]}" || { cat "$T_TMP/h2.log" >&2; fail "h2's agent did not stop cleanly"; }
# A Node outlives its agent (flanneld releases nothing): it leaves with the Node.
[ "$kind" != kube ] || kube_node_delete h2 || fail "deleting the Node h2"
gone_everywhere() {
	local name
	for name in h1 h3 h4; do
		ip -n "${HOST[$name]}" route show "$left_subnet" | grep -q . && return 1
	done
	return 0
}
wait_for 5 gone_everywhere || fail "h2's subnet $left_subnet still routed somewhere after 5 s"
echo "  h2's subnet $left_subnet gone from h1, h3 and h4 after $(( $(now_ms) - t0 )) ms"
NAMES=(h1 h3 h4)
ctl lease list || fail "ovlctl lease list"

say "pod-to-pod ping matrix after the churn"
ping_matrix

say "agent logs (one line per event)"
for name in h1 h2 h3 h4; do sed "s/^/  /" "$T_TMP/$name.log"; done

say "demo passed"
