# lib-dispatch.sh - sourced after lib.sh and lib-etcd.sh by bench/dispatch.sh
# and tests/netns/test-dispatch.sh: the host loop of bench/dispatch-probe
# (an embedded ovl_node on h1, every ovl_node_dispatch() timed) through
# faults of its store and underlay, with `ovlctl run` on h2 as its peer.
# The caller sets the durations (NORMAL_SECONDS, FROZEN_SECONDS for the
# SIGSTOP, DOWN_SECONDS between etcd's kill and its restart, LOCK_SECONDS,
# FLAPS of 1 s down and 1 s up, RECOVERY_SECONDS to wait for the node) and
# walks the phases; each phase leaves one line in
# $T_TMP/phases.txt: the probe's figures (see bench/dispatch-probe.c) plus
# pings sent/lost from h1's pod to h2's during the phase, whether that pod
# reaches the other when the phase ends, and whether the store then lists
# h1's lease.
#
# Four runs, each with its own store: run_etcd (one etcd member on the
# underlay, in the switch namespace), run_cluster (three members; the
# probe's URI lists all three, the leader first), run_file (a file
# store on tmpfs) and run_kube (a real kube-apiserver in the switch
# namespace, tests/netns/lib-kube.sh, which the caller sources; the
# leases are the Nodes' pod CIDRs).  The agents use short timers so that renewals and
# resyncs happen in every phase: TTL 6 s, renewal 2 s before expiry,
# resync every 1 s.
# Cleanup on every exit: what lib.sh's does (also any namespace a subshell
# made), plus etcd's tmpfs; DISPATCH_LOGS=DIR keeps the logs there first.
dispatch_cleanup() {
	[ -n "${DISPATCH_LOGS:-}" ] && mkdir -p "$DISPATCH_LOGS" && cp -r "$T_TMP"/. "$DISPATCH_LOGS"
	t_cleanup
	rm -rf "$ETCD_SHM"
}
trap dispatch_cleanup EXIT
trap 'exit 130' INT TERM

TTL=6
MARGIN=2
RESYNC=1
# The real binaries, not libtool's wrapper scripts.
PROBE=$OVL_BUILD/bench/dispatch-probe
[ -x "$OVL_BUILD/bench/.libs/dispatch-probe" ] && PROBE=$OVL_BUILD/bench/.libs/dispatch-probe
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
ETCD_IP=192.168.77.1
API_IP=192.168.77.9
MEMBER_IPS=(192.168.77.2 192.168.77.3 192.168.77.4)
PREFIX=/coreos.com/network
declare -A HOST POD MEMBER_PID
PHASE=
PROBE_PID=
PEER_PID=
PING_PID=

dispatch_setup() {
	local n ip
	sw=$(underlay_add) || return 1
	for ip in "$ETCD_IP" "${MEMBER_IPS[@]}" "$API_IP"; do ip -n "$sw" addr add "$ip/24" dev br0; done
	for n in 1 2; do
		read -r "HOST[$n]" "POD[$n]" < <(node_host "$sw" "h$n" "192.168.77.1$n/24" "$n")
		cp "$T_TMP/h$n.env" "$T_TMP/h$n.env.orig"
	done
	echo '{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan", "VNI": 1 } }' > "$T_TMP/net-conf.json"
}

# etcd_member NAME IP CLUSTER: one etcd in the switch namespace, clients on
# IP:2379, peers on IP:2380 (CLUSTER: --initial-cluster); prints nothing,
# sets MEMBER_PID[NAME].  `ip netns exec` execs etcd: $! is etcd's PID.
etcd_member() {
	ip netns exec "$sw" etcd --name "$1" --data-dir "$ETCD_SHM/$1" \
		--listen-client-urls "http://$2:2379" --advertise-client-urls "http://$2:2379" \
		--listen-peer-urls "http://$2:2380" --initial-advertise-peer-urls "http://$2:2380" \
		--initial-cluster "$3" --initial-cluster-state new >> "$T_TMP/etcd-$1.log" 2>&1 &
	MEMBER_PID[$1]=$!
	track_pid "$!"
}
ectl() { ip netns exec "$sw" etcdctl --dial-timeout=1s --command-timeout=2s "$@"; }
healthy_at() { ectl --endpoints="$1" endpoint health >/dev/null 2>&1; }
# leader_of ENDPOINTS: the endpoint (host:port) that leads, if any.
leader_of() {
	ectl --endpoints="$1" endpoint status -w json 2>/dev/null |
		jq -r '.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint' | head -1
}
has_leader() { [ -n "$(leader_of "$1")" ]; }

# ---- the two agents ----------------------------------------------------------

# agents_start STORE [CONFIG]: h2's `ovlctl run` and h1's probe on STORE,
# both ready and their pods reaching each other.
agents_start() {
	local store=$1 config=${2:-} n
	for n in 1 2; do cp "$T_TMP/h$n.env.orig" "$T_TMP/h$n.env"; done
	RUN_STORE=$store
	ip netns exec "${HOST[2]}" "$OVLCTL" --store "$store" ${config:+--config "$config"} run \
		--node h2 --iface eth0 --subnet-file "$T_TMP/h2.env" --ttl "$TTL" \
		--renew-margin "$MARGIN" --resync "$RESYNC" --teardown >> "$T_TMP/h2.log" 2>&1 &
	PEER_PID=$!
	track_pid "$PEER_PID"
	rm -f "$T_TMP/probe.in"
	mkfifo "$T_TMP/probe.in"
	: > "$T_TMP/probe.out"
	ip netns exec "${HOST[1]}" "$PROBE" --store "$store" ${config:+--config "$config"} \
		--node h1 --iface eth0 --subnet-file "$T_TMP/h1.env" --ttl "$TTL" \
		--renew-margin "$MARGIN" --resync "$RESYNC" \
		< "$T_TMP/probe.in" > "$T_TMP/probe.out" 2>> "$T_TMP/probe.log" &
	PROBE_PID=$!
	track_pid "$PROBE_PID"
	exec {PROBE_FD}> "$T_TMP/probe.in"
	wait_for 20 grep -q '^started' "$T_TMP/probe.out" &&
		wait_for 20 grep -q 'notice: ready' "$T_TMP/h2.log" &&
		REACH_SECONDS=10 reached_by 2 1 && REACH_SECONDS=5 reached_by 1 2
}
probe_say() { echo "$* $(date +%s%N)" >&"$PROBE_FD"; }
# agents_stop: ends the last phase, stops both agents (teardown) and keeps
# the probe's phase lines.
agents_stop() {
	phase_close quit
	exec {PROBE_FD}>&-
	kill "$PEER_PID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$PROBE_PID" 2>/dev/null || kill -0 "$PEER_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$PROBE_PID" "$PEER_PID" 2>/dev/null
	wait "$PROBE_PID" "$PEER_PID" 2>/dev/null
}

# ---- phases ---------------------------------------------------------------------

lease_listed() {
	ip netns exec "${HOST[2]}" "$OVLCTL" --store "$RUN_STORE" --json lease list 2>/dev/null |
		jq -e 'any(.[]; .node == "h1")' >/dev/null
}
# phase_close NEXT-COMMAND...: ends $PHASE: its ping and its line.
phase_close() {
	local sent=0 got=0 listed=no reached=no
	if [ -n "$PHASE" ]; then
		lease_listed && listed=yes
		REACH_SECONDS=3 reached_by 2 1 && reached=yes
		kill -INT "$PING_PID" 2>/dev/null
		wait "$PING_PID" 2>/dev/null
		read -r sent got < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' \
			"$T_TMP/ping-$PHASE.out")
	fi
	probe_say "$@"
	[ -n "$PHASE" ] || return 0
	wait_for 15 grep -q "^phase=$PHASE " "$T_TMP/probe.out"
	echo "$(grep "^phase=$PHASE " "$T_TMP/probe.out" | sed "s/ error=.*//") pings_sent=${sent:-0} pings_lost=$(( ${sent:-0} - ${got:-0} )) reached_at_end=$reached lease_listed=$listed" \
		>> "$T_TMP/phases.txt"
	grep "^phase=$PHASE " "$T_TMP/probe.out" | sed -n 's/.* error=\(.\)/\1/p' > "$T_TMP/error-$PHASE.txt"
	PHASE=
}
# phase_begin NAME: the previous phase ends, NAME starts with a ping from
# pod 1 to pod 2 every 200 ms.
phase_begin() {
	phase_close phase "$1"
	PHASE=$1
	ip netns exec "${POD[1]}" ping -i 0.2 -W 1 10.244.2.2 > "$T_TMP/ping-$1.out" 2>&1 &
	PING_PID=$!
	track_pid "$PING_PID"
}
# fault_over: tells the probe; waits until it reports the node healthy (at
# most RECOVERY_SECONDS), then one more second of normal running.
fault_over() {
	probe_say fault-end
	wait_for "$RECOVERY_SECONDS" grep -q "^recovered phase=$PHASE " "$T_TMP/probe.out"
	sleep 1
}

phase_normal_etcd() { phase_begin normal; sleep "$NORMAL_SECONDS"; }
phase_normal_file() { phase_begin normal-file; sleep "$(( (NORMAL_SECONDS + 1) / 2 ))"; }
phase_etcd_frozen() {
	phase_begin etcd-frozen
	kill -STOP "${MEMBER_PID[single]}"
	sleep "$FROZEN_SECONDS"
	kill -CONT "${MEMBER_PID[single]}"
	fault_over
}
phase_etcd_restart() {
	phase_begin etcd-restart
	kill -9 "${MEMBER_PID[single]}"
	wait "${MEMBER_PID[single]}" 2>/dev/null
	sleep "$DOWN_SECONDS"
	etcd_member single "$ETCD_IP" "single=http://$ETCD_IP:2380"
	wait_for 20 healthy_at "$ETCD_IP:2379"
	fault_over
}
phase_link_flap() {
	phase_begin link-flap
	for _ in $(seq "$FLAPS"); do
		ip -n "${HOST[1]}" link set eth0 down
		sleep 1
		ip -n "${HOST[1]}" link set eth0 up
		sleep 1
	done
	fault_over
}
phase_leader_loss() {
	local leader n survivors=
	phase_begin leader-loss
	leader=$(leader_of "$CLUSTER_ENDPOINTS")
	for n in 1 2 3; do
		if [ "$leader" = "${MEMBER_IPS[n - 1]}:2379" ]; then
			kill -9 "${MEMBER_PID[m$n]}"
			wait "${MEMBER_PID[m$n]}" 2>/dev/null
		else
			survivors="$survivors${survivors:+,}${MEMBER_IPS[n - 1]}:2379"
		fi
	done
	# The fault is over once the survivors have elected a new leader.
	wait_for 20 has_leader "$survivors"
	fault_over
}
phase_normal_kube() { phase_begin normal-kube; sleep "$NORMAL_SECONDS"; }
phase_apiserver_frozen() {
	phase_begin apiserver-frozen
	kill -STOP "$KUBE_PID"
	sleep "$FROZEN_SECONDS"
	kill -CONT "$KUBE_PID"
	fault_over
}
# The apiserver goes, its etcd stays: the restart comes back on the same
# Nodes, as a control-plane upgrade does.
phase_apiserver_restart() {
	phase_begin apiserver-restart
	kube_stop
	sleep "$DOWN_SECONDS"
	kube_start "$sw" "$API_IP" 6443
	fault_over
}
renewed_since() { [ "$(grep -c 'renewed for' "$T_TMP/probe.log")" -gt "$1" ]; }
# The lock is taken 3 s after a renewal, so that the next one (due 4-5 s
# after it) comes 1-2 s into the lock: the file store's resync reads
# without the lock, renewals are what wait for it.
phase_lock_held() {
	local renewals
	renewals=$(grep -c 'renewed for' "$T_TMP/probe.log")
	wait_for 10 renewed_since "$renewals"
	sleep 3
	phase_begin lock-held
	flock "$FILE_STORE.lock" sleep "$LOCK_SECONDS"
	fault_over
}

# ---- the three runs --------------------------------------------------------------

run_etcd() { # PHASE-FUNCTION...
	local phase
	etcd_member single "$ETCD_IP" "single=http://$ETCD_IP:2380"
	wait_for 20 healthy_at "$ETCD_IP:2379" &&
		ip netns exec "${HOST[2]}" "$OVLCTL" --store "etcd://$ETCD_IP:2379" config put "$T_TMP/net-conf.json" &&
		agents_start "etcd://$ETCD_IP:2379" || { echo "dispatch: the etcd run did not start"; return 1; }
	for phase in "$@"; do "$phase"; done
	agents_stop
	etcd_stop "${MEMBER_PID[single]}"
}
run_cluster() { # PHASE-FUNCTION...
	local phase cluster= endpoints= leader n
	for n in 1 2 3; do cluster="$cluster${cluster:+,}m$n=http://${MEMBER_IPS[n - 1]}:2380"; done
	for n in 1 2 3; do
		etcd_member "m$n" "${MEMBER_IPS[n - 1]}" "$cluster"
		endpoints="$endpoints${endpoints:+,}${MEMBER_IPS[n - 1]}:2379"
	done
	CLUSTER_ENDPOINTS=$endpoints
	wait_for 20 healthy_at "$endpoints" && wait_for 10 has_leader "$endpoints" ||
		{ echo "dispatch: the etcd cluster did not start"; return 1; }
	# The leader first: the probe's store talks to it until it dies.
	leader=$(leader_of "$endpoints")
	endpoints="$leader,$(echo "$endpoints" | tr , '\n' | grep -vx "$leader" | paste -sd,)"
	ip netns exec "${HOST[2]}" "$OVLCTL" --store "etcd://$endpoints" config put "$T_TMP/net-conf.json" &&
		agents_start "etcd://$endpoints" || { echo "dispatch: the cluster run did not start"; return 1; }
	for phase in "$@"; do "$phase"; done
	agents_stop
	for n in 1 2 3; do etcd_stop "${MEMBER_PID[m$n]}"; done
}
run_file() { # PHASE-FUNCTION...
	local phase
	FILE_STORE=$ETCD_SHM/leases.json
	agents_start "file:$FILE_STORE" "$T_TMP/net-conf.json" ||
		{ echo "dispatch: the file-store run did not start"; return 1; }
	for phase in "$@"; do "$phase"; done
	agents_stop
}
run_kube() { # PHASE-FUNCTION...
	local phase store
	kube_start "$sw" "$API_IP" 6443 && kube_kubeconfig "$T_TMP/kubeconfig" admin &&
		kube_node_create h1 10.244.1.0/24 && kube_node_create h2 10.244.2.0/24 ||
		{ echo "dispatch: the apiserver did not start"; return 1; }
	store="kube:$T_TMP/kubeconfig?net-config-path=$T_TMP/net-conf.json"
	agents_start "$store" || { echo "dispatch: the kube run did not start"; return 1; }
	for phase in "$@"; do "$phase"; done
	agents_stop
	kube_stop
	etcd_stop "$KUBE_ETCD_PID"
}

# phase_value PHASE KEY: one figure of a finished phase.
phase_value() {
	awk -v phase="phase=$1" -v key="$2" '$1 == phase {
		for (i = 2; i <= NF; i++) if (index($i, key "=") == 1) { print substr($i, length(key) + 2); exit } }' \
		"$T_TMP/phases.txt"
}
