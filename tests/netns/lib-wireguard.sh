# lib-wireguard.sh - sourced after lib.sh by the wireguard tests
# (test-wireguard.sh, test-wireguard-live.sh): hosts hN (192.168.77.N) with
# a pod 10.244.N.2 behind cni0, each with its own /run/wireguard, agents
# (`ovlctl run`) on the wireguard backend with wireguard-go, and what the
# checks read back: wireguard-go's PID, keys, leases, a device's peers.
#
# `ip netns exec` gives each command a private mount namespace: every host
# bind-mounts its own directory on /run/wireguard there, so that the
# hosts' UAPI sockets (/run/wireguard/flannel-wg.sock) do not collide.
command -v wireguard-go >/dev/null || { echo "SKIP: wireguard-go is not installed (tests/install-deps.sh)"; echo "TESTS: 0 0"; exit 0; }
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
declare -A HOST POD AGENT
# The mount point the hosts' directories go on (wireguard-go makes it too).
mkdir -p /run/wireguard

# host N: hN (192.168.77.N) with pod 10.244.N.2 behind cni0 (MTU 1420, as
# FLANNEL_MTU says), its UAPI directory and its key file's place.
host() {
	local n=$1
	HOST[$n]=$(host_add "$sw" "h$n" "192.168.77.$n/24") || return 1
	POD[$n]=$(pod_add "${HOST[$n]}" "p$n" "10.244.$n.2/24" "10.244.$n.1" 1420) || return 1
	mkdir -p "$T_TMP/run$n"
	printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%s.1/24\nFLANNEL_MTU=1420\n' "$n" > "$T_TMP/h$n.env"
	: > "$T_TMP/h$n.log"
}
# in_host N COMMAND...: COMMAND in hN with hN's /run/wireguard.
in_host() {
	local n=$1; shift
	ip netns exec "${HOST[$n]}" sh -c 'mount --bind "$0" /run/wireguard && exec "$@"' \
		"$T_TMP/run$n" "$@"
}
agent() { # N [OPTIONS]
	local n=$1; shift
	# Not through in_host: $! must be ovlctl's own PID, not a subshell's.
	ip netns exec "${HOST[$n]}" sh -c 'mount --bind "$0" /run/wireguard && exec "$@"' \
		"$T_TMP/run$n" "$OVLCTL" --store "$STORE" --config "$CONF" run --node "h$n" \
		--iface eth0 --subnet-file "$T_TMP/h$n.env" --wireguard-userspace wireguard-go \
		--wireguard-key-file "$T_TMP/key$n" "$@" >> "$T_TMP/h$n.log" 2>&1 &
	AGENT[$n]=$!
	track_pid "${AGENT[$n]}"
}
READY_SECONDS=20
logged() { grep -q -- "$2" "$T_TMP/h$1.log"; }
# The PID of hN's wireguard-go.
wg_pid() { ip netns pids "${HOST[$1]}" | while read -r p; do [ "$(cat /proc/$p/comm 2>/dev/null)" = wireguard-go ] && echo "$p"; done | head -1; }
pubkey() { "$OVLCTL" wireguard pubkey < "$T_TMP/key$1"; }
lease_of() { jq -c --arg n "h$1" '.leases[] | select(.NodeName == $n)' "${STORE#file:}"; }
# hN's lease publishes its public key and port 51820, as flannel's does.
lease_data_ok() {
	local key
	key=$(pubkey "$1") || return 1
	lease_of "$1" | jq -e --arg k "$key" \
		'.BackendType == "wireguard" and .BackendData.PublicKey == $k and .BackendData.Port == 51820'
}
peers_of() { in_host "$1" "$OVLCTL" --json wireguard show | jq -r '.peers[].subnet' | sort | tr '\n' ' '; }
has_peers() { [ "$(peers_of "$1")" = "$2" ]; }
edit() {
	local file=${STORE#file:}
	flock "$file.lock" sh -c "jq -c '.revision += 1 | $1' '$file' > '$file.new' && mv '$file.new' '$file'"
}

