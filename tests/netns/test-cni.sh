#!/bin/bash
# test-cni.sh - ovl-cni with Debian's real CNI plugins (bridge, host-local) in
# /usr/lib/cni: the plugin runs inside a host namespace made here (so cni0 and
# the veths live there), pods are namespaces too.  ADD/CHECK/DEL in every
# spec version (and without cniVersion, as flannel's own tests send), results
# in the version asked for, dual stack, DEL without subnet.env, DEL replaying
# the saved bytes, delegate failures on ADD and DEL, every bad-input error
# (code, msg, nothing written), and, when `ovlctl run` works, two agents with
# a pod each pinging across the overlay.
source "$(dirname "$0")/lib.sh"
OVL_CNI=${OVL_CNI:-$OVL_BUILD/ovl-cni}
PLUGINS=/usr/lib/cni
D=$T_TMP

if [ ! -x "$PLUGINS/bridge" ] || [ ! -x "$PLUGINS/host-local" ]; then
	echo "SKIP: $PLUGINS/bridge and host-local are needed (containernetworking-plugins)"
	t_finish; exit
fi

# lib.sh's ns_add records the namespace in a $(...) subshell, where the
# record is lost: record it again here so that cleanup removes it.
ns() { T_NAMESPACES+=("$1"); }
H=$(ns_add host); ns "$H"
P=$(ns_add pod); ns "$P"

# plugin ENV...: runs ovl-cni in $H with exactly these CNI_* variables;
# stdin is the caller's, stdout goes to $D/out, the exit status to $D/rc.
plugin() {
	ip netns exec "$H" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}" "$@" "$OVL_CNI" > "$D/out"
	echo $? > "$D/rc"
}
# cni COMMAND ID NETNS: the usual variables for a pod's eth0.
cni() {
	plugin CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="/run/netns/$3" \
		CNI_IFNAME=eth0 CNI_PATH="$PLUGINS"
}
rc_is() { [ "$(cat "$D/rc")" = "$1" ]; }
export D
export -f rc_is	# for the checks that run in bash -c
out_is() { [ "$(cat "$D/out")" = "$1" ]; }
jq_is() { [ "$(jq -r "$1" "$D/out" 2>/dev/null)" = "$2" ]; }
# spec_error CODE MSG: exit status 1 and exactly that error on stdout.
spec_error() {
	rc_is 1 && jq_is .code "$1" && jq_is .msg "$2" && jq -e '.cniVersion and has("details")' "$D/out" >/dev/null ||
		{ echo "rc=$(cat "$D/rc") out=$(cat "$D/out")"; return 1; }
}
# netconf VERSION SUBNETFILE DATADIR [DELEGATE-JSON]; host-local keeps its
# state in $IPAM_DIR (default $D/ipam).  VERSION "none": no cniVersion.
netconf() {
	local delegate=${4:-} version=
	[ -n "$delegate" ] || delegate='{"isDefaultGateway":true}'
	[ "$1" = none ] || version="\"cniVersion\":\"$1\","
	printf '{%s"name":"cni-test","type":"ovl-cni","subnetFile":"%s","dataDir":"%s","ipam":{"dataDir":"%s"},"delegate":%s}' \
		"$version" "$2" "$3" "${IPAM_DIR:-$D/ipam}" "$delegate"
}
# Links in the host namespace besides lo: "nothing written" includes them.
host_links() { ip -n "$H" -o link show | grep -vc ': lo:'; }
nothing_written() { [ ! -e "$D/bad-data" ] && [ ! -e "$D/ipam" ] && [ "$(host_links)" = 0 ]; }

cat > "$D/subnet.env" <<EOF
FLANNEL_NETWORK=10.1.0.0/16
FLANNEL_SUBNET=10.1.17.1/24
FLANNEL_MTU=1400
FLANNEL_IPMASQ=true
EOF
GOOD=$(netconf 1.0.0 "$D/subnet.env" "$D/data")
BAD() { netconf "${2:-1.0.0}" "${1:-$D/subnet.env}" "$D/bad-data" "${3:-}"; }

# ---- VERSION -------------------------------------------------------------
plugin CNI_COMMAND=VERSION < /dev/null
check "VERSION lists 0.1.0 to 1.1.0 (libcni's version.All)" \
	out_is '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}'

# ---- bad input: a spec error with a precise msg, nothing written ----------
bad() { # NAME CODE MSG: checks the last run
	check "bad input: $1 -> code $2" spec_error "$2" "$3"
	check "bad input: $1 writes nothing" nothing_written
}
BADNC=$(BAD)
cni ADD "ctr/x" "$P" <<< "$BADNC"
bad "containerID with /" 4 'CNI_CONTAINERID: contains "/"'
cni ADD "ctr..x" "$P" <<< "$BADNC"
bad "containerID with .." 4 'CNI_CONTAINERID: contains ".."'
cni ADD "$(printf 'a%.0s' {1..257})" "$P" <<< "$BADNC"
bad "containerID of 257 bytes" 4 'CNI_CONTAINERID: 257 bytes, at most 255 allowed (it names a file in dataDir)'
cni ADD 'ctr$x' "$P" <<< "$BADNC"
bad "containerID with \$" 4 'CNI_CONTAINERID: invalid character 0x24 at byte 3 (allowed: letters, digits, and _ . - after the first)'
plugin CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_IFNAME=eth0 CNI_PATH=$PLUGINS <<< "$BADNC"
bad "ADD without CNI_NETNS" 4 'required environment variables missing: CNI_NETNS'
plugin CNI_COMMAND=DEL CNI_IFNAME=eth0 <<< "$BADNC"
bad "DEL without CNI_CONTAINERID, CNI_PATH" 4 'required environment variables missing: CNI_CONTAINERID, CNI_PATH'
plugin CNI_CONTAINERID=c1 <<< "$BADNC"
bad "no CNI_COMMAND" 4 'required environment variables missing: CNI_COMMAND'
plugin CNI_COMMAND=FROB <<< "$BADNC"
bad "unknown CNI_COMMAND" 4 'CNI_COMMAND: unknown command "FROB" (ADD, DEL, CHECK, GC, STATUS, VERSION)'
cni ADD c1 "$P" <<< '{"cniVersion":"1.0.0",'
bad "non-JSON stdin" 6 'stdin: not valid JSON: string or '"'"'}'"'"' expected near end of file (line 2, column 0)'
cni ADD c1 "$P" < /dev/null
bad "empty stdin" 6 'stdin: empty, expected the network configuration as JSON'
{ printf '{"cniVersion":"1.0.0","name":"x","pad":"'; head -c 1048576 /dev/zero | tr '\0' a; printf '"}'; } > "$D/big.json"
cni ADD c1 "$P" < "$D/big.json"
bad "stdin over 1 MiB" 6 'stdin: network configuration is larger than 1048576 bytes (1 MiB)'
cni ADD c1 "$P" <<< "$(BAD "" 9.9.9)"
bad "unknown cniVersion" 1 'incompatible CNI versions: config is "9.9.9", plugin supports 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0'
cni CHECK c1 "$P" <<< "$(BAD "" 0.3.1)"
bad "CHECK in 0.3.1" 1 'config version "0.3.1" does not allow CHECK (needs 0.4.0 or later)'
cni CHECK c1 "$P" <<< "$(BAD "" none)"
bad "CHECK without cniVersion (0.1.0)" 1 'config version "0.1.0" does not allow CHECK (needs 0.4.0 or later)'
plugin CNI_COMMAND=STATUS CNI_PATH=$PLUGINS <<< "$(BAD "" 1.0.0)"
bad "STATUS in 1.0.0" 1 'config version "1.0.0" does not allow STATUS (needs 1.1.0 or later)'
plugin CNI_COMMAND=STATUS CNI_PATH=$PLUGINS <<< "$(BAD "" 1.1.0)"
check "STATUS in 1.1.0 succeeds with no output (as flannel's plugin)" bash -c "rc_is 0 && [ ! -s '$D/out' ]"
plugin CNI_COMMAND=GC CNI_PATH=$PLUGINS <<< "$(BAD "" 1.1.0)"
check "GC in 1.1.0 succeeds with no output (as flannel's plugin)" bash -c "rc_is 0 && [ ! -s '$D/out' ] && [ ! -e '$D/bad-data' ]"
cni ADD c1 "$P" <<< "$(BAD "$D/absent.env")"
bad "missing subnet.env" 11 "$D/absent.env does not exist yet: the overlay agent (ovlctl run or flanneld) has not started on this node"
printf 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=garbage\nFLANNEL_MTU=1400\nFLANNEL_IPMASQ=true\n' > "$D/bad1.env"
cni ADD c1 "$P" <<< "$(BAD "$D/bad1.env")"
bad "subnet.env with a bad FLANNEL_SUBNET" 7 "$D/bad1.env:2: FLANNEL_SUBNET: \"garbage\" is not a CIDR"
printf 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_MTU=big\nFLANNEL_IPMASQ=true\n' > "$D/bad2.env"
cni ADD c1 "$P" <<< "$(BAD "$D/bad2.env")"
bad "subnet.env with a bad FLANNEL_MTU" 7 "$D/bad2.env:3: FLANNEL_MTU: \"big\" is not an MTU (decimal digits, below 2^32)"
printf 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_IPMASQ=true\n' > "$D/bad3.env"
cni ADD c1 "$P" <<< "$(BAD "$D/bad3.env")"
bad "subnet.env without FLANNEL_MTU" 7 "$D/bad3.env is missing FLANNEL_MTU"
printf 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_MTU=1400\n' > "$D/bad4.env"
cni ADD c1 "$P" <<< "$(BAD "$D/bad4.env")"
bad "subnet.env without FLANNEL_IPMASQ" 7 "$D/bad4.env is missing FLANNEL_IPMASQ"
printf 'foo=bar\n' > "$D/bad5.env"
cni ADD c1 "$P" <<< "$(BAD "$D/bad5.env")"
bad "subnet.env without any variable (flannel's test)" 7 "$D/bad5.env is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ"
cni ADD c1 "$P" <<< "$(BAD "" 1.0.0 '{"name":"x"}')"
bad "delegate with a name" 7 'netconf: delegate must not have "name": it is set to the network name'
cni ADD c1 "$P" <<< "$(BAD "" 1.0.0 '{"type":"no-such-plugin"}')"
bad "delegate not on CNI_PATH" 999 "failed to find plugin \"no-such-plugin\" in CNI_PATH \"$PLUGINS\""
cni ADD c1 "$P" <<< "$(BAD "" 1.0.0 '{"type":"../bridge"}')"
bad "delegate type with a path" 7 'delegate type "../bridge" must be a plugin name, not a path'

# ---- ADD / CHECK / DEL with the real bridge + host-local ------------------
cni ADD ctr-1 "$P" <<< "$GOOD"
cp "$D/out" "$D/add-1.json"
ADDR=$(jq -r '.ips[0].address' "$D/add-1.json")
IP=${ADDR%/*}
check "ADD succeeds" rc_is 0
check "ADD result is 1.0.0 with one address in FLANNEL_SUBNET" \
	bash -c "jq -e '.cniVersion == \"1.0.0\" and (.ips | length) == 1 and .ips[0].gateway == \"10.1.17.1\"' '$D/add-1.json' && [[ '$ADDR' =~ ^10\\.1\\.17\\.([2-9]|[1-9][0-9]+)/24$ ]]"
check "pod eth0 has the address" bash -c "ip -n '$P' -j addr show dev eth0 | jq -e '.[0].addr_info[] | select(.local == \"$IP\" and .prefixlen == 24)'"
check "pod eth0 has FLANNEL_MTU 1400" bash -c "ip -n '$P' -j link show dev eth0 | jq -e '.[0].mtu == 1400'"
check "pod routes the cluster network via the bridge" bash -c "ip -n '$P' route show 10.1.0.0/16 | grep -q 'via 10.1.17.1 dev eth0'"
check "pod has the default route (delegate isDefaultGateway)" bash -c "ip -n '$P' route show default | grep -q 'via 10.1.17.1'"
check "cni0 in the host namespace is the gateway 10.1.17.1/24" bash -c "ip -n '$H' -j addr show dev cni0 | jq -e '.[0].addr_info[] | select(.local == \"10.1.17.1\" and .prefixlen == 24)'"
check "one veth on cni0" bash -c "[ \$(ip -n '$H' -o link show master cni0 | wc -l) = 1 ]"
check "pod reaches the gateway" ip netns exec "$P" ping -c 1 -W 2 10.1.17.1
check "saved config: dir 0700, file 0600" bash -c "[ \$(stat -c %a '$D/data') = 700 ] && [ \$(stat -c %a '$D/data/ctr-1') = 600 ]"
WANT='{"cniVersion":"1.0.0","ipMasq":false,"ipam":{"dataDir":"'$D'/ipam","ranges":[[{"subnet":"10.1.17.0/24"}]],"routes":[{"dst":"10.1.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1400,"name":"cni-test","type":"bridge"}'
check "saved config is flannel's rendering" bash -c "[ \"\$(cat '$D/data/ctr-1')\" = '$WANT' ]"
check "no temp file left in dataDir" bash -c "[ \$(ls -A '$D/data' | wc -l) = 1 ]"

# CHECK and DEL get the ADD result as prevResult, as a runtime sends it.
WITH_PREV=$(jq -c --slurpfile r "$D/add-1.json" '. + {prevResult: $r[0]}' <<< "$GOOD")
cni CHECK ctr-1 "$P" <<< "$WITH_PREV"
check "CHECK passes (bridge checks the prevResult)" bash -c "[ \$(cat '$D/rc') = 0 ] && [ ! -s '$D/out' ]"
jq -c '.prevResult.ips[0].address = "10.1.17.250/24"' <<< "$WITH_PREV" > "$D/wrong-prev.json"
cni CHECK ctr-1 "$P" < "$D/wrong-prev.json"
check "CHECK fails when the pod lacks the prevResult's address" bash -c "! rc_is 0 && jq -e .code '$D/out'"
cni CHECK ctr-1 "$P" <<< "$(jq -c '.name = "other"' <<< "$WITH_PREV")"
check "CHECK refuses a config for another network" spec_error 7 "saved config $D/data/ctr-1 is for network \"cni-test\", not \"other\""

cni DEL ctr-1 "$P" <<< "$WITH_PREV"
check "DEL succeeds with no output" bash -c "[ \$(cat '$D/rc') = 0 ] && [ ! -s '$D/out' ]"
check "DEL removes the veth" bash -c "[ \$(ip -n '$H' -o link show master cni0 | wc -l) = 0 ] && ! ip -n '$P' link show eth0"
check "DEL removes the saved config" test ! -e "$D/data/ctr-1"
check "DEL releases the host-local address" test ! -e "$D/ipam/cni-test/$IP"
cni DEL ctr-1 "$P" <<< "$GOOD"
check "second DEL succeeds" bash -c "[ \$(cat '$D/rc') = 0 ] && [ ! -s '$D/out' ]"
cni CHECK ctr-1 "$P" <<< "$WITH_PREV"
check "CHECK after DEL: container unknown" spec_error 3 "no saved config for container ctr-1 in $D/data: ADD has not run or DEL has removed it"

# ---- DEL replays the saved config without subnet.env ----------------------
cni ADD ctr-2 "$P" <<< "$GOOD"
check "ADD ctr-2" rc_is 0
mv "$D/subnet.env" "$D/subnet.env.away"
cni DEL ctr-2 "$P" <<< "$GOOD"
check "DEL without subnet.env succeeds" rc_is 0
check "DEL without subnet.env removes veth and saved config" \
	bash -c "[ \$(ip -n '$H' -o link show master cni0 | wc -l) = 0 ] && [ ! -e '$D/data/ctr-2' ]"
mv "$D/subnet.env.away" "$D/subnet.env"

# ---- every spec version, and none ------------------------------------------
# The result comes in the version asked for: 0.1.0/0.2.0 "ip4", 0.3.x/0.4.0
# "ips" with "version", 1.x "ips" without.  Debian's bridge stops at 1.0.0:
# for 1.1.0 it gets 1.0.0 and its result is converted up.
result_shape() { # VERSION: checks $D/out
	case $1 in
	none|0.1.0|0.2.0)
		local want=$1; [ "$want" = none ] && want=0.1.0
		jq -e --arg v "$want" '.cniVersion == $v and (.ip4.ip | startswith("10.1.17.")) and .ip4.gateway == "10.1.17.1" and (has("ips") | not) and has("dns")' "$D/out" ;;
	0.3.*|0.4.0)
		jq -e --arg v "$1" '.cniVersion == $v and (.ips[0].address | startswith("10.1.17.")) and .ips[0].version == "4" and (.interfaces | length) > 0' "$D/out" ;;
	*)
		jq -e --arg v "$1" '.cniVersion == $v and (.ips[0].address | startswith("10.1.17.")) and (.ips[0] | has("version") | not) and (.interfaces | length) > 0' "$D/out" ;;
	esac
}
export -f result_shape
for v in none 0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.1.0; do
	NC=$(netconf $v "$D/subnet.env" "$D/data")
	cni ADD "ctr-$v" "$P" <<< "$NC"
	check "ADD in $v answers in its shape" bash -c "rc_is 0 && result_shape $v > /dev/null || { cat '$D/out'; false; }"
	case $v in
	none) check "ADD without cniVersion saves none (flannel's rendering)" \
		bash -c "jq -e 'has(\"cniVersion\") | not' '$D/data/ctr-$v'" ;;
	1.1.0) check "ADD in 1.1.0 gives bridge 1.0.0, its newest" \
		bash -c "jq -e '.cniVersion == \"1.0.0\"' '$D/data/ctr-$v'" ;;
	*) check "ADD in $v saves cniVersion $v" bash -c "jq -e '.cniVersion == \"$v\"' '$D/data/ctr-$v'" ;;
	esac
	if [ $v = 0.4.0 ] || [ $v = 1.1.0 ]; then
		cni CHECK "ctr-$v" "$P" <<< "$(jq -c --slurpfile r "$D/out" '. + {prevResult: $r[0]}' <<< "$NC")"
		check "CHECK in $v" bash -c "rc_is 0 || { cat '$D/out'; false; }"
	fi
	cni DEL "ctr-$v" "$P" <<< "$NC"
	check "DEL in $v" bash -c "rc_is 0 && [ ! -e '$D/data/ctr-$v' ] && [ \$(ip -n '$H' -o link show master cni0 | wc -l) = 0 ]"
	cni DEL "ctr-$v" "$P" <<< "$NC"
	check "second DEL in $v succeeds" bash -c "rc_is 0 && [ ! -s '$D/out' ]"
done

# ---- DEL replays the saved bytes as saved -----------------------------------
# A "bridge" ahead of the real one on CNI_PATH records what it is given.
mkdir -p "$D/rec"
printf '#!/bin/sh\ncat > "%s/stdin.$CNI_COMMAND"\nexec %s/bridge < "%s/stdin.$CNI_COMMAND"\n' \
	"$D/rec" "$PLUGINS" "$D/rec" > "$D/rec/bridge"
chmod +x "$D/rec/bridge"
NC=$(netconf 0.4.0 "$D/subnet.env" "$D/data" | jq -c '. + {runtimeConfig: {portMappings: [{hostPort: 8080, containerPort: 80, protocol: "tcp"}]}}')
plugin CNI_COMMAND=ADD CNI_CONTAINERID=ctr-r CNI_NETNS=/run/netns/$P CNI_IFNAME=eth0 CNI_PATH="$D/rec:$PLUGINS" <<< "$NC"
check "ADD through the recorder" rc_is 0
check "ADD gives the delegate exactly the saved bytes" cmp -s "$D/rec/stdin.ADD" "$D/data/ctr-r"
cp "$D/data/ctr-r" "$D/saved-r"
NC2=$(netconf 1.0.0 "$D/subnet.env" "$D/data" | jq -c '. + {runtimeConfig: {portMappings: []}}')
plugin CNI_COMMAND=DEL CNI_CONTAINERID=ctr-r CNI_NETNS=/run/netns/$P CNI_IFNAME=eth0 CNI_PATH="$D/rec:$PLUGINS" <<< "$NC2"
check "DEL in another version succeeds" rc_is 0
check "DEL replays the saved bytes (cniVersion 0.4.0, ADD's runtimeConfig)" cmp -s "$D/rec/stdin.DEL" "$D/saved-r"
check "DEL removed the saved config and the veth" bash -c "[ ! -e '$D/data/ctr-r' ] && ! ip -n '$P' link show eth0 2>/dev/null"

# ---- a failing delegate leaves nothing for DEL ----------------------------
cni ADD ctr-f "$P" <<< "$(netconf 1.0.0 "$D/subnet.env" "$D/data" '{"bridge":"cni0"}' | jq -c '.ipam.type = "no-such-ipam"')"
check "delegate failure is passed through" bash -c "! rc_is 0 && jq -e '.code and (.msg | contains(\"no-such-ipam\"))' '$D/out'"
check "delegate failure removes the saved config" test ! -e "$D/data/ctr-f"

# ---- dual stack -------------------------------------------------------------
cat > "$D/dual.env" <<EOF
FLANNEL_NETWORK=10.1.0.0/16
FLANNEL_SUBNET=10.1.17.1/24
FLANNEL_IPV6_NETWORK=fd00:1::/48
FLANNEL_IPV6_SUBNET=fd00:1:0:11::1/64
FLANNEL_MTU=1400
FLANNEL_IPMASQ=true
EOF
P6=$(ns_add pod6); ns "$P6"
ip netns exec "$H" sysctl -qw net.ipv6.conf.all.forwarding=1
DUAL=$(netconf 1.0.0 "$D/dual.env" "$D/data")
cni ADD ctr-6 "$P6" <<< "$DUAL"
check "dual stack ADD gives a v4 and a v6 address" \
	bash -c "rc_is 0 && jq -e '(.ips | length) == 2 and (.ips[1].address | startswith(\"fd00:1:0:11::\"))' '$D/out'"
check "pod routes the v6 cluster network" bash -c "ip -n '$P6' -6 route show fd00:1::/48 | grep -q 'via fd00:1:0:11::1'"
check "saved dual-stack rendering" bash -c "jq -e '.ipam.ranges == [[{subnet:\"10.1.17.0/24\"}],[{subnet:\"fd00:1:0:11::/64\"}]] and .ipam.routes == [{dst:\"10.1.0.0/16\"},{dst:\"fd00:1::/48\"}]' '$D/data/ctr-6'"
cni DEL ctr-6 "$P6" <<< "$DUAL"
check "dual stack DEL" bash -c "rc_is 0 && [ ! -e '$D/data/ctr-6' ]"

# ---- a failing delegate DEL still removes the saved config -------------------
# The saved state names an IPAM plugin that is not there: bridge's DEL fails.
PF=$(ns_add podf); ns "$PF"
cni ADD ctr-d "$PF" <<< "$GOOD"
check "ADD ctr-d" rc_is 0
jq -c '.ipam.type = "no-such-ipam"' "$D/data/ctr-d" > "$D/ctr-d.bad" && mv "$D/ctr-d.bad" "$D/data/ctr-d"
cni DEL ctr-d "$PF" <<< "$GOOD"
check "DEL passes the delegate's failure through" bash -c "! rc_is 0 && jq -e '.code and (.msg | contains(\"no-such-ipam\"))' '$D/out'"
check "DEL removes the saved config although the delegate failed (flannel)" test ! -e "$D/data/ctr-d"
cni DEL ctr-d "$PF" <<< "$GOOD"
check "DEL again succeeds" bash -c "rc_is 0 && [ ! -s '$D/out' ]"

# ---- end to end: two agents, a pod on each, ping across the overlay --------
e2e() {
	local sw h1 h2 p1 p2 pid i a2
	cat > "$D/net-conf.json" <<-EOF
	{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}
	EOF
	sw=$(underlay_add); ns "$sw"
	h1=$(host_add "$sw" h1 192.168.77.1/24); ns "$h1"
	h2=$(host_add "$sw" h2 192.168.77.2/24); ns "$h2"
	for i in 1 2; do
		local h=$h1; [ $i = 2 ] && h=$h2
		# ip netns exec execs ovlctl: $! is the agent itself, which
		# cleanup stops by PID (a backgrounded function would be a subshell)
		ip netns exec "$h" "$OVLCTL" --store "file:$D/leases.json" --config "$D/net-conf.json" run \
			--node "node$i" --public-ip "192.168.77.$i" --subnet-file "$D/h$i.env" \
			> "$D/agent$i.log" 2>&1 &
		pid=$!
		track_pid $pid
		if ! wait_for 10 test -s "$D/h$i.env"; then
			echo "SKIP: end to end: ovlctl run did not write subnet.env in 10 s:"
			tail -3 "$D/agent$i.log" | sed 's/^/    /'
			return
		fi
	done
	p1=$(ns_add p1); ns "$p1"
	p2=$(ns_add p2); ns "$p2"
	H=$h1 cni ADD e2e-1 "$p1" <<< "$(IPAM_DIR=$D/ipam1 netconf 1.0.0 "$D/h1.env" "$D/data1")"
	check "e2e: ADD on host 1" rc_is 0
	H=$h2 cni ADD e2e-2 "$p2" <<< "$(IPAM_DIR=$D/ipam2 netconf 1.0.0 "$D/h2.env" "$D/data2")"
	check "e2e: ADD on host 2" rc_is 0
	a2=$(jq -r '.ips[0].address' "$D/out"); a2=${a2%/*}
	check "e2e: pod on host 1 pings pod on host 2 ($a2) across the overlay" \
		wait_for 10 ip netns exec "$p1" ping -c 1 -W 1 "$a2"
	H=$h1 cni DEL e2e-1 "$p1" <<< "$(IPAM_DIR=$D/ipam1 netconf 1.0.0 "$D/h1.env" "$D/data1")"
	check "e2e: DEL on host 1" rc_is 0
}
if [ -x "$OVLCTL" ] && "$OVLCTL" help run >/dev/null 2>&1; then
	e2e
else
	echo "SKIP: end to end: ovlctl has no run command"
fi

t_finish
