#!/bin/bash
# test-node-flannel.sh - settings a mixed flanneld + libovl cluster must read
# alike, on real kernels with two agents (`ovlctl run`) sharing a file store:
# a config put without Backend.Type is stored with "Type":"vxlan" written in
# (flanneld would take udp); "VNI": 0 gives device flannel.0 with VXLAN id 0
# and BackendData VNI 0, and pods ping across it; "MTU": 1400 is the
# underlay's, as flannel reads it: the device and FLANNEL_MTU get 1350; the
# forward accept rules are there without --ip-masq.
. "$(dirname "$0")/lib.sh"

# The real binary, not libtool's wrapper script (half a second per start).
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
store="file:$T_TMP/leases.json"
declare -A HOST POD AGENT

host() {
	read -r "HOST[$1]" "POD[$1]" < <(node_host "$sw" "h$1" "192.168.77.$1/24" "$1")
}
# agent N: hN's agent; the network config comes from the store.
agent() {
	ovlctl_bg "${HOST[$1]}" "$T_TMP/h$1.log" --store "$store" run --node "h$1" \
		--iface eth0 --subnet-file "$T_TMP/h$1.env"
	AGENT[$1]=$BG_PID
}
ready() { grep -q 'notice: ready' "$T_TMP/h$1.log"; }
both_ready() { ready 1 && ready 2; }
stored() { jq -e "$1" "${store#file:}" >/dev/null; }
device() { # N WANT: hN's flannel.0 in `ip -d link` shows WANT
	ip -n "${HOST[$1]}" -d link show flannel.0 | grep -q -- "$2"
}

sw=$(underlay_add) || exit 1
for n in 1 2; do host "$n" || exit 1; done

# ---- the config, put as a user writes it -----------------------------------------
echo '{ "Network": "10.244.0.0/16", "Backend": { "VNI": 0, "MTU": 1400 } }' > "$T_TMP/net-conf.json"
check "config put of a Backend without Type" \
	ovlctl_in "${HOST[1]}" --store "$store" config put "$T_TMP/net-conf.json"
check "... is stored with \"Type\":\"vxlan\" written in, the rest kept" \
	stored '.config.Backend == {"Type": "vxlan", "VNI": 0, "MTU": 1400}'

# ---- two agents on VNI 0 ----------------------------------------------------------
for n in 1 2; do agent "$n"; done
check "two agents become ready" wait_for 10 both_ready
for n in 1 2; do
	check "h$n runs flannel.0 with VXLAN id 0" device "$n" "vxlan id 0 "
	check "h$n has no flannel.1" sh -c "! ip -n '${HOST[$n]}' link show flannel.1 2>/dev/null"
	check "h$n's lease publishes VNI 0" \
		stored ".leases[\"10.244.$n.0-24\"].BackendData.VNI == 0"
done
check "pod 1 reaches pod 2 over VNI 0" reached_by 2 1
check "pod 2 reaches pod 1 over VNI 0" reached_by 1 2

# ---- MTU 1400 is the underlay's -------------------------------------------------
for n in 1 2; do
	check "h$n's flannel.0 has MTU 1350" device "$n" "mtu 1350 "
	check "h$n's FLANNEL_MTU is 1350" grep -qx 'FLANNEL_MTU=1350' "$T_TMP/h$n.env"
done
check "a full-size packet crosses (1350 bytes, DF)" \
	ip netns exec "${POD[1]}" ping -c1 -W2 -q -M do -s 1322 10.244.2.2

# ---- forward rules without --ip-masq -----------------------------------------------
check "the forward accept rules are there without --ip-masq" sh -c "
	ip netns exec '${HOST[1]}' nft list table ip ovl-ipv4 > '$T_TMP/table' &&
	grep -q 'ip saddr 10.244.0.0/16 accept' '$T_TMP/table' &&
	grep -q 'ip daddr 10.244.0.0/16 accept' '$T_TMP/table' && ! grep -q masquerade '$T_TMP/table'"

if [ "$T_FAILED" -gt 0 ] || [ -n "${OVL_SHOW_LOGS:-}" ]; then
	for n in 1 2; do echo "--- h$n agent log"; cat "$T_TMP/h$n.log" 2>/dev/null; done
fi
t_finish
