#!/bin/bash
# test-masq.sh - flannel's masquerade and forward rules (`ovlctl masq`):
# hosts A and B on an underlay with a router R to an "outside" segment that
# has no route to the pods.  With A's rules a pod of A reaches the outside,
# which sees A's address; pod-to-pod traffic keeps pod addresses; packets
# marked by kube-proxy, and the outside's own connections to A's pods, are
# not translated; `masq check` notices a hand-flushed table and `apply`
# restores it; apply twice changes nothing; --no-masquerade installs the
# forward rules alone; IPv6 likewise; `remove` leaves no table.
source "$(dirname "$0")/lib.sh"

NET4=10.244.0.0/16 SUB4=10.244.1.0/24 NET6=fd44::/48 SUB6=fd44:0:0:1::/64
SW=$(underlay_add)
A=$(host_add "$SW" ha 192.168.50.1/24)
B=$(host_add "$SW" hb 192.168.50.2/24)
R=$(host_add "$SW" r 192.168.50.254/24)
OUT=$(ns_add out)
PA=$(pod_add "$A" pa 10.244.1.2/24 10.244.1.1)
PB=$(pod_add "$B" pb 10.244.2.2/24 10.244.2.1)

# IPv6 next to IPv4 (nodad: no wait for duplicate address detection).
addr6() { ip -n "$1" -6 addr add "$2" dev "$3" nodad; }
addr6 "$A" fd50::1/64 eth0; addr6 "$B" fd50::2/64 eth0; addr6 "$R" fd50::fe/64 eth0
addr6 "$A" fd44:0:0:1::1/64 cni0; addr6 "$PA" fd44:0:0:1::2/64 eth0
addr6 "$B" fd44:0:0:2::1/64 cni0; addr6 "$PB" fd44:0:0:2::2/64 eth0
ip -n "$PA" -6 route add default via fd44:0:0:1::1
ip -n "$PB" -6 route add default via fd44:0:0:2::1

# The outside segment hangs off R; the outside knows the underlay, not the pods.
ip link add eth1 netns "$R" type veth peer name eth0 netns "$OUT"
ip -n "$R" addr add 203.0.113.1/24 dev eth1; addr6 "$R" fd77::1/64 eth1
ip -n "$R" link set eth1 up
ip -n "$OUT" addr add 203.0.113.10/24 dev eth0; addr6 "$OUT" fd77::10/64 eth0
ip -n "$OUT" link set eth0 up
ip -n "$OUT" route add 192.168.50.0/24 via 203.0.113.1
ip -n "$OUT" -6 route add fd50::/64 via fd77::1
for h in "$A" "$B"; do
	ip -n "$h" route add default via 192.168.50.254
	ip -n "$h" -6 route add default via fd50::fe
done
# Pod subnets between A and B as plain routes: no overlay needed here.
ip -n "$A" route add 10.244.2.0/24 via 192.168.50.2
ip -n "$B" route add 10.244.1.0/24 via 192.168.50.1
ip -n "$A" -6 route add fd44:0:0:2::/64 via fd50::2
ip -n "$B" -6 route add fd44:0:0:1::/64 via fd50::1

# A TCP server that answers each client with the address it sees, and its client.
cat >"$T_TMP/peer.py" <<'EOF'
import socket, sys
if sys.argv[1] == "serve":
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", int(sys.argv[2])))
    s.listen(16)
    while True:
        c, peer = s.accept()
        host = peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]
        c.sendall((host + "\n").encode())
        c.close()
else:
    c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=2)
    print(c.recv(100).decode().strip())
EOF
serve() { # NAMESPACE PORT
	ip netns exec "$1" python3 "$T_TMP/peer.py" serve "$2" >/dev/null 2>&1 &
	track_pid $!
	wait_for 5 bash -c "ip netns exec $1 ss -Hltn 'sport = :$2' | grep -q ."
}
serve "$OUT" 9999; serve "$OUT" 9998; serve "$PB" 9999; serve "$PA" 9999
# seen FROM-NS HOST PORT WANT: the server at HOST:PORT sees the client as WANT.
seen() {
	local got
	got=$(ip netns exec "$1" python3 "$T_TMP/peer.py" ask "$2" "$3") || return 1
	[ "$got" = "$4" ] || { echo "seen as '$got', want '$4'"; return 1; }
}
masq() { ovlctl_in "$A" masq "$@"; }

check_fails "without masquerade the outside cannot answer a pod" seen "$PA" 203.0.113.10 9999 10.244.1.2
check "masq apply $NET4 $SUB4 on A" masq apply --network "$NET4" --subnet "$SUB4"
check "pod -> outside: source masqueraded to A's address" seen "$PA" 203.0.113.10 9999 192.168.50.1
check "pod -> pod on B: source kept" seen "$PA" 10.244.2.2 9999 10.244.1.2
check "table ip ovl-ipv4 holds flannel's rules, fully random" bash -c "
	ip netns exec $A nft list table ip ovl-ipv4 > $T_TMP/list4 &&
	grep -q 'type nat hook postrouting priority srcnat' $T_TMP/list4 &&
	grep -q 'meta mark & 0x00004000 == 0x00004000 return' $T_TMP/list4 &&
	grep -q 'ip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 return' $T_TMP/list4 &&
	grep -q 'ip saddr 10.244.0.0/16 ip daddr 10.244.1.0/24 return' $T_TMP/list4 &&
	grep -q 'ip saddr != 10.244.0.0/16 ip daddr 10.244.1.0/24 return' $T_TMP/list4 &&
	grep -q 'ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random' $T_TMP/list4 &&
	grep -q 'ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random' $T_TMP/list4 &&
	grep -q 'type filter hook forward priority filter' $T_TMP/list4 &&
	grep -q 'ip saddr 10.244.0.0/16 accept' $T_TMP/list4 &&
	grep -q 'ip daddr 10.244.0.0/16 accept' $T_TMP/list4"
check "masq check: ok" masq check --network "$NET4" --subnet "$SUB4"

# kube-proxy's mark: such packets are left alone (so no answer comes back).
ip netns exec "$A" nft -f - <<'EOF'
table ip kube-mark {
	chain pre {
		type filter hook prerouting priority mangle;
		tcp dport 9998 meta mark set 0x4000
	}
}
EOF
check "pod -> outside:9998 (unmarked port) still works" seen "$PA" 203.0.113.10 9999 192.168.50.1
check_fails "pod -> outside:9998 marked 0x4000 by kube-proxy: not masqueraded" \
	seen "$PA" 203.0.113.10 9998 192.168.50.1
ip netns exec "$A" nft delete table ip kube-mark

ip netns exec "$A" nft -j list ruleset >"$T_TMP/before"
check "masq apply again: success" masq apply --network "$NET4" --subnet 10.244.1.1/24
check "apply twice: nft -j list ruleset identical" bash -c \
	"ip netns exec $A nft -j list ruleset | cmp - $T_TMP/before"

ip netns exec "$A" nft flush table ip ovl-ipv4
check_fails "flushed by hand: masq check reports it" masq check --network "$NET4" --subnet "$SUB4"
check "flushed: the message names the missing rule" bash -c \
	"ip netns exec $A $OVLCTL masq check --network $NET4 --subnet $SUB4 2>&1 | grep -q 'chain postrtg is missing'"
check_fails "flushed: the pod's traffic is no longer masqueraded" seen "$PA" 203.0.113.10 9999 192.168.50.1
check "masq apply restores it" masq apply --network "$NET4" --subnet "$SUB4"
check "restored: check ok, pod masqueraded again" bash -c "
	ip netns exec $A $OVLCTL masq check --network $NET4 --subnet $SUB4 &&
	[ \"\$(ip netns exec $PA python3 $T_TMP/peer.py ask 203.0.113.10 9999)\" = 192.168.50.1 ]"
ip netns exec "$A" nft add rule ip ovl-ipv4 forward accept
check "an extra rule added by hand: check names it" bash -c \
	"ip netns exec $A $OVLCTL masq check --network $NET4 --subnet $SUB4 2>&1 | grep -q 'unexpected rule 3 of chain forward'"
ip netns exec "$A" nft delete table ip ovl-ipv4
check "deleted by hand: check says the table is missing" bash -c \
	"! ip netns exec $A $OVLCTL masq check --network $NET4 --subnet $SUB4 2>$T_TMP/err && grep -q 'table ip ovl-ipv4 is missing' $T_TMP/err"

check "flags: --no-fully-random --no-forward" bash -c "
	ip netns exec $A $OVLCTL masq apply --network $NET4 --subnet $SUB4 --no-fully-random --no-forward &&
	ip netns exec $A nft list table ip ovl-ipv4 > $T_TMP/list4 &&
	! grep -q 'fully-random' $T_TMP/list4 && ! grep -q 'chain forward' $T_TMP/list4 &&
	grep -q 'ip daddr != 224.0.0.0/4 masquerade$' $T_TMP/list4"
check_fails "check without the flags reports a difference" masq check --network "$NET4" --subnet "$SUB4"
check "apply without the flags replaces the table" bash -c "
	ip netns exec $A $OVLCTL masq apply --network $NET4 --subnet $SUB4 &&
	ip netns exec $A $OVLCTL masq check --network $NET4 --subnet $SUB4 &&
	ip netns exec $A nft list table ip ovl-ipv4 | grep -q 'chain forward'"

# The outside reaching A's pod (routes for it only now) keeps its address.
ip -n "$OUT" route add 10.244.1.0/24 via 203.0.113.1
ip -n "$R" route add 10.244.1.0/24 via 192.168.50.1
check "outside -> A's pod: source kept" seen "$OUT" 10.244.1.2 9999 203.0.113.10

check "masq apply $NET6 $SUB6 on A" masq apply --network "$NET6" --subnet "$SUB6"
check "v6 pod -> outside: source masqueraded to A's address" seen "$PA" fd77::10 9999 fd50::1
check "v6 pod -> pod on B: source kept" seen "$PA" fd44:0:0:2::2 9999 fd44:0:0:1::2
check "table ip6 ovl-ipv6: ff00::/8 exempt, check ok" bash -c "
	ip netns exec $A nft list table ip6 ovl-ipv6 | grep -q 'ip6 saddr fd44::/48 ip6 daddr != ff00::/8 masquerade fully-random' &&
	ip netns exec $A $OVLCTL masq check --network $NET6 --subnet $SUB6"

check "--no-masquerade: the forward chain alone, no --subnet needed" bash -c "
	ip netns exec $A $OVLCTL masq apply --network $NET4 --no-masquerade &&
	ip netns exec $A nft list table ip ovl-ipv4 > $T_TMP/list4 &&
	grep -q 'type filter hook forward priority filter' $T_TMP/list4 &&
	grep -q 'ip saddr 10.244.0.0/16 accept' $T_TMP/list4 &&
	grep -q 'ip daddr 10.244.0.0/16 accept' $T_TMP/list4 && ! grep -q postrtg $T_TMP/list4 &&
	ip netns exec $A $OVLCTL masq check --network $NET4 --subnet $SUB4 --no-masquerade"
check_fails "--no-masquerade: check with masquerade reports the difference" \
	masq check --network "$NET4" --subnet "$SUB4"
check_fails "--no-masquerade: pod -> outside not masqueraded" seen "$PA" 203.0.113.10 9999 192.168.50.1
check "--no-masquerade --no-forward: refused, naming ovl_masq_remove" bash -c \
	"! ip netns exec $A $OVLCTL masq apply --network $NET4 --no-masquerade --no-forward 2>$T_TMP/err &&
	grep -q 'neither masquerade nor forward' $T_TMP/err"
check "masq remove --family 4 leaves only ip6 ovl-ipv6" bash -c "
	ip netns exec $A $OVLCTL masq remove --family 4 &&
	[ \"\$(ip netns exec $A nft list tables)\" = 'table ip6 ovl-ipv6' ]"
check "masq remove: no table left" bash -c "
	ip netns exec $A $OVLCTL masq remove && [ -z \"\$(ip netns exec $A nft list tables)\" ]"
check "masq remove again: success" masq remove
check_fails "masq remove --family 5: usage error" masq remove --family 5
check "bad input: the message names it" bash -c \
	"! ip netns exec $A $OVLCTL masq apply --network $NET4 --subnet 10.99.0.0/24 2>$T_TMP/err &&
	grep -q 'subnet: 10.99.0.0/24 is not inside the network 10.244.0.0/16' $T_TMP/err"
check "without CAP_NET_ADMIN: EPERM with a message, nothing printed by libnftables" bash -c "
	! ip netns exec $A setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
		$OVLCTL masq apply --network $NET4 --subnet $SUB4 2>$T_TMP/err &&
	[ \"\$(cat $T_TMP/err)\" = 'ovlctl: masq apply: table ip ovl-ipv4: nftables needs CAP_NET_ADMIN' ]"

t_finish
