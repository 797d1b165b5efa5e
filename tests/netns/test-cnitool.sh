#!/bin/bash
# test-cnitool.sh - ovl-cni driven by libcni, the CNI runtime library that
# containerd and CRI-O embed, through its command cnitool (built from
# Debian's source package by tests/tools/build-cnitool.sh, cached outside
# the checkout): two hosts whose agents run (`ovlctl run`), a network list
# chaining ovl-cni and Debian's portmap plugin, a pod on each host.  ADD on
# both, the pods ping across the overlay, a host port reaches a pod through
# portmap, CHECK passes and then detects an address removed from the pod,
# DEL removes the pod's interface and port mapping, and a second DEL
# succeeds too.
source "$(dirname "$0")/lib.sh"
OVL_CNI=${OVL_CNI:-$OVL_BUILD/ovl-cni}
PLUGINS=/usr/lib/cni
D=$T_TMP

for plugin in bridge host-local portmap; do
	if [ ! -x "$PLUGINS/$plugin" ]; then
		echo "FAIL: $PLUGINS/$plugin is missing (containernetworking-plugins)"
		T_FAILED=1; t_finish; exit
	fi
done
if ! CNITOOL=$("$OVL_TOP/tests/tools/build-cnitool.sh" 2> "$D/build.log"); then
	cat "$D/build.log"; echo "FAIL: cnitool could not be built"
	T_FAILED=1; t_finish; exit
fi
check "cnitool built from Debian's golang-github-appc-cni" test -x "$CNITOOL"
# ovl-cni is found by its name on CNI_PATH: a directory holding only it.
mkdir -p "$D/bin"
ln -s "$OVL_CNI" "$D/bin/ovl-cni"

VAR_LIB_CNI=$(find /var/lib/cni 2>/dev/null | sort | md5sum)
SW=$(underlay_add)
declare -A H POD
echo '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}' > "$D/net-conf.json"
for i in 1 2; do
	H[$i]=$(host_add "$SW" "h$i" "192.168.77.$i/24")
	ip netns exec "${H[$i]}" "$OVLCTL" --store "file:$D/leases.json" --config "$D/net-conf.json" run \
		--node "node$i" --public-ip "192.168.77.$i" --subnet-file "$D/h$i.env" > "$D/agent$i.log" 2>&1 &
	track_pid $!
	POD[$i]=$(ns_add "pod$i")
	mkdir -p "$D/conf$i" "$D/var-lib$i"
	printf '%s\n' '{"cniVersion": "1.0.0", "name": "ovlnet", "plugins": [' \
		"  {\"type\": \"ovl-cni\", \"subnetFile\": \"$D/h$i.env\", \"dataDir\": \"$D/data$i\"," \
		"   \"ipam\": {\"dataDir\": \"$D/ipam$i\"}, \"delegate\": {\"isDefaultGateway\": true}}," \
		'  {"type": "portmap", "capabilities": {"portMappings": true}}' \
		']}' > "$D/conf$i/10-ovlnet.conflist"
done
for i in 1 2; do
	check "agent on h$i wrote subnet.env" wait_for 10 test -s "$D/h$i.env"
done

# cnitool I COMMAND: libcni on host I for its pod.  libcni keeps its cache
# in /var/lib/cni: inside this command's private mount namespace (ip netns
# exec makes one) /var/lib is the host's own directory.
cnitool() {
	local i=$1 command=$2
	ip netns exec "${H[$i]}" env CNI_PATH="$PLUGINS:$D/bin" NETCONFPATH="$D/conf$i" \
		CAP_ARGS="${CAP_ARGS:-}" CNITOOL="$CNITOOL" VAR_LIB="$D/var-lib$i" POD="/run/netns/${POD[$i]}" \
		COMMAND="$command" sh -c 'mount --bind "$VAR_LIB" /var/lib && exec "$CNITOOL" "$COMMAND" ovlnet "$POD"'
}
pod_address() {
	ip -n "${POD[$1]}" -j addr show dev eth0 |
		jq -r '.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"'
}
# in_subnet ADDRESS ENV-FILE: the address lies in the file's FLANNEL_SUBNET.
in_subnet() {
	local subnet
	subnet=$(sed -n 's/^FLANNEL_SUBNET=//p' "$2")
	[ "${1%.*}" = "${subnet%.*}" ]
}

CAP_ARGS='{"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]}' \
	check "cnitool add on h1 (ovl-cni, then portmap with a port mapping)" cnitool 1 add
check "cnitool add on h2" cnitool 2 add
A1=$(pod_address 1)
A2=$(pod_address 2)
check "pod 1 has an address ($A1) in h1's subnet" in_subnet "$A1" "$D/h1.env"
check "pod 2 has an address ($A2) in h2's subnet" in_subnet "$A2" "$D/h2.env"
check "libcni cached the ADD result in the host's private /var/lib/cni" \
	bash -c "ls '$D/var-lib1/cni/results/' | grep -q '^ovlnet-cnitool-'"
check "pod on h1 pings pod on h2 (${A2%/*}) across the overlay" \
	wait_for 10 ip netns exec "${POD[1]}" ping -c 1 -W 1 "${A2%/*}"
check "pod on h2 pings pod on h1 (${A1%/*})" ip netns exec "${POD[2]}" ping -c 1 -W 2 "${A1%/*}"

# portmap: h1's port 8080 reaches the pod's port 80 from the other host.
echo "served by pod 1" > "$D/index.html"
ip netns exec "${POD[1]}" python3 -m http.server 80 --bind "${A1%/*}" --directory "$D" > "$D/http.log" 2>&1 &
track_pid $!
wait_for 5 ip netns exec "${POD[1]}" bash -c "exec 3<>/dev/tcp/${A1%/*}/80"
check "portmap: 192.168.77.1:8080 from h2 reaches the pod's port 80" bash -c "
	ip netns exec '${H[2]}' curl -s -m 3 http://192.168.77.1:8080/index.html | grep -q 'served by pod 1'"

check "cnitool check on h1 passes" cnitool 1 check
check "cnitool check on h2 passes" cnitool 2 check
ip -n "${POD[1]}" addr del "$A1" dev eth0
check_fails "cnitool check on h1 fails once the pod's address is removed" cnitool 1 check
cnitool 1 check > "$D/check.out" 2>&1
check "the failed check names the missing address" grep -q "${A1%/*}" "$D/check.out"

for i in 1 2; do
	check "cnitool del on h$i" cnitool "$i" del
	check "del removed pod $i's eth0 and libcni's cached result" bash -c "
		! ip -n '${POD[$i]}' link show eth0 2>/dev/null && [ -z \"\$(ls -A '$D/var-lib$i/cni/results/' 2>/dev/null)\" ]"
	check "cnitool del on h$i a second time succeeds" cnitool "$i" del
done
check "del removed ovl-cni's saved configs" bash -c "[ -z \"\$(find '$D/data1' '$D/data2' -type f)\" ]"
check_fails "portmap: the host port is gone after del" \
	ip netns exec "${H[2]}" curl -s -m 2 http://192.168.77.1:8080/index.html
check "the machine's own /var/lib/cni is as it was" \
	bash -c "[ \"\$(find /var/lib/cni 2>/dev/null | sort | md5sum)\" = '$VAR_LIB_CNI' ]"
t_finish
