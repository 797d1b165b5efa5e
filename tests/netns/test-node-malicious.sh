#!/bin/bash
# test-node-malicious.sh - hostile store content, end to end through two
# running agents (`ovlctl run`) sharing a file store: records with a subnet
# outside the network or overlapping ours, an unusable public IP, a zero or
# multicast VTEP MAC, megabyte strings or deep nesting are each skipped with a
# log line naming the key, install nothing in either host, and the agents and
# the real pods carry on.  A record the file store cannot decode (a malformed
# key, a key its value contradicts, "0.0.0.0", flannel's "no IPv4", as an
# IPv4 lease's address) is skipped by the store alone, logged with its key,
# while a valid record written beside it is installed.  A document that is
# not JSON the store can take (nesting beyond jansson's limit) is refused as
# a whole, as ovl_store_open(3) says; the data path stays and the agents
# recover once the file is fixed.
. "$(dirname "$0")/lib.sh"

# The real binary, not libtool's wrapper script (half a second per start).
[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
file="$T_TMP/leases.json"
conf="$T_TMP/net-conf.json"
echo '{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }' > "$conf"
declare -A HOST POD AGENT

sw=$(underlay_add)
for n in 1 2; do
	HOST[$n]=$(host_add "$sw" "h$n" "192.168.77.$n/24")
	POD[$n]=$(pod_add "${HOST[$n]}" "p$n" "10.244.$n.2/24" "10.244.$n.1")
	printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%s.1/24\nFLANNEL_MTU=1450\n' "$n" > "$T_TMP/h$n.env"
	ovlctl_bg "${HOST[$n]}" "$T_TMP/h$n.log" --store "file:$file" --config "$conf" run \
		--node "h$n" --iface eth0 --subnet-file "$T_TMP/h$n.env"
	AGENT[$n]=$BG_PID
done
logged() { grep -q -- "$2" "$T_TMP/h$1.log"; }
ping1() { ip netns exec "${POD[$1]}" ping -c1 -W1 -q "10.244.$2.2" >/dev/null 2>&1; }
pods_ping() { wait_for 3 ping1 1 2 && wait_for 3 ping1 2 1; }
agents_run() { kill -0 "${AGENT[1]}" && kill -0 "${AGENT[2]}"; }
check "both agents become ready" wait_for 10 sh -c "grep -q 'notice: ready' '$T_TMP/h1.log' && grep -q 'notice: ready' '$T_TMP/h2.log'"
check "the pods ping each other" pods_ping

# store_edit OP [ARGS]: rewrites the store under its lock, atomically (a
# temporary file renamed over it) with mode 0644, as root.  Values are raw
# JSON text, spliced in so that nesting deeper than Python's own limit works.
#   add KEY VALUE_FILE...   adds records (alternating key and value file)
#   drop KEY...             removes records
#   save / restore          keeps a copy / puts it back (for unparsable files)
cat > "$T_TMP/edit.py" <<'EOF'
import fcntl, json, os, shutil, sys
sys.setrecursionlimit(20000)	# records nested 2000 deep
path, op, args = sys.argv[1], sys.argv[2], sys.argv[3:]
lock = open(path + ".lock", "a")
fcntl.flock(lock, fcntl.LOCK_EX)
if op == "save":
    shutil.copyfile(path, path + ".saved")
    sys.exit(0)
if op == "restore":
    text = open(path + ".saved").read()
else:
    doc = json.load(open(path))
    doc["revision"] += 1
    raw = {}
    if op == "add":
        for i in range(0, len(args), 2):
            doc["leases"][args[i]] = "@@%d@@" % i
            raw['"@@%d@@"' % i] = open(args[i + 1]).read()
    else:
        for key in args:
            doc["leases"].pop(key, None)
    text = json.dumps(doc)
    for marker, value in raw.items():
        text = text.replace(marker, value)
tmp = path + ".edit"
with open(tmp, "w") as out:
    out.write(text)
os.chmod(tmp, 0o644)
os.rename(tmp, path)
EOF
store_edit() { python3 "$T_TMP/edit.py" "$file" "$@"; }

# ---- records skipped one by one -------------------------------------------------
exp=$(( $(date +%s) + 3600 ))
mb=$(head -c 1048576 /dev/zero | tr '\0' x)
nest() { printf '%*s' "$1" '' | tr ' ' '['; printf 1; printf '%*s' "$1" '' | tr ' ' ']'; }
# value NAME SUBNET IP MAC [TYPE [NODE [VNI]]]: writes a record's JSON to a file
value() {
	printf '{"PublicIP":"%s","BackendType":"%s","BackendData":{"VNI":%s,"VtepMAC":"%s"},"NodeName":"%s","Expiration":%s}' \
		"$3" "${5:-vxlan}" "${7:-1}" "$4" "${6:-bad-$1}" "$exp" > "$T_TMP/v.$1"
}
# name key reason
CASES=(
	"outside 10.245.9.0-24 is outside the network"
	"overlap 10.244.0.0-22 overlaps ours"
	"mcastip 10.244.103.0-24 public IP 224.0.0.5 is multicast"
	"loopip 10.244.104.0-24 public IP 127.0.0.1 is loopback"
	"zeromac 10.244.106.0-24 VtepMAC '00:00:00:00:00:00' is not a unicast MAC"
	"mcastmac 10.244.107.0-24 VtepMAC '01:00:5e:00:00:01' is not a unicast MAC"
	"hugetype 10.244.108.0-24 backend type 'xxxxxxxx"
	"hugename 10.244.109.0-24 NodeName of 1048576 bytes"
	"deepvni 10.244.110.0-24 VNI is an array, not an integer"
)
value outside 10.245.9.0/24 192.168.77.101 0e:00:00:00:bb:01
value overlap 10.244.0.0/22 192.168.77.102 0e:00:00:00:bb:02
value mcastip 10.244.103.0/24 224.0.0.5 0e:00:00:00:bb:03
value loopip 10.244.104.0/24 127.0.0.1 0e:00:00:00:bb:04
value zeromac 10.244.106.0/24 192.168.77.106 00:00:00:00:00:00
value mcastmac 10.244.107.0/24 192.168.77.107 01:00:5e:00:00:01
value hugetype 10.244.108.0/24 192.168.77.108 0e:00:00:00:bb:08 "$mb"
value hugename 10.244.109.0/24 192.168.77.109 0e:00:00:00:bb:09 vxlan "$mb"
# nesting that still parses (jansson stops at 2048 levels)
value deepvni 10.244.110.0/24 192.168.77.110 0e:00:00:00:bb:10 vxlan bad-deepvni "$(nest 2000)"
unset mb
bad_subnets="10.245.9.0 10.244.0.0/22 10.244.103.0 10.244.104.0 10.244.105.0 10.244.106.0 10.244.107.0 10.244.108.0 10.244.109.0 10.244.110.0"
bad_macs="0e:00:00:00:bb: 00:00:00:00:00:00 01:00:5e:00:00:01"
bad_ips="192.168.77.1[01][0-9]|224.0.0.5|127.0.0.1"
# Nothing of the bad records in a host's routes, neighbours or fdb.
nothing_installed() {
	local h=${HOST[$1]} s m
	for s in $bad_subnets; do
		ip -n "$h" -j route | jq -e --arg s "${s%/*}" 'any(.[]; .dst | startswith($s))' >/dev/null && { echo "route $s"; return 1; }
		ip -n "$h" -j neigh | jq -e --arg s "${s%/*}" 'any(.[]; .dst == $s)' >/dev/null && { echo "neigh $s"; return 1; }
	done
	for m in $bad_macs; do
		ip -n "$h" -j neigh | jq -e --arg m "$m" 'any(.[]; (.lladdr // "") | startswith($m))' >/dev/null && { echo "neigh $m"; return 1; }
		bridge -n "$h" -j fdb show dev flannel.1 | jq -e --arg m "$m" 'any(.[]; (.mac // "") | startswith($m))' >/dev/null && { echo "fdb $m"; return 1; }
	done
	bridge -n "$h" -j fdb show dev flannel.1 | jq -r '.[].dst // empty' | grep -E "^($bad_ips)\$" && return 1
	return 0
}

args=()
for c in "${CASES[@]}"; do set -- $c; args+=("$2" "$T_TMP/v.$1"); done
store_edit add "${args[@]}"
for c in "${CASES[@]}"; do
	set -- $c
	name=$1 key=$2; shift 2
	for n in 1 2; do
		check "h$n skips $name ($key) naming key and reason" wait_for 3 logged "$n" "skipping lease $key: .*$*"
	done
done
check "the skip lines stay short (no megabyte log lines)" sh -c "! awk 'length > 4096' '$T_TMP/h1.log' '$T_TMP/h2.log' | grep -q ."
for n in 1 2; do check "h$n installed nothing of the bad records" nothing_installed "$n"; done
check "both agents keep running" agents_run
check "the real pods still ping" pods_ping
check "the real peers are still routed" sh -c "ip -n '${HOST[1]}' route show 10.244.2.0/24 | grep -q flannel.1 && ip -n '${HOST[2]}' route show 10.244.1.0/24 | grep -q flannel.1"
drop=()
for c in "${CASES[@]}"; do set -- $c; drop+=("$2"); done
store_edit drop "${drop[@]}"

# ---- documents refused as a whole ---------------------------------------------
# probe: a valid record added after the fix; both hosts routing it proves
# the agents read the store again.
probe=0
recovered() {
	local n
	for n in 1 2; do ip -n "${HOST[$n]}" route show "10.244.$((200 + probe)).0/24" | grep -q flannel.1 || return 1; done
}
new_log() { tail -n +"$(( $(cat "$T_TMP/mark.$1") + 1 ))" "$T_TMP/h$1.log" | grep -q -- "$2"; }
# refused NAME PATTERN KEY VALUE_FILE: the store refused with PATTERN logged,
# data path and agents kept, recovery once the record is gone.
refused() {
	local name=$1 pattern=$2 n; shift 2
	: > "$T_TMP/mark"
	for n in 1 2; do wc -l < "$T_TMP/h$n.log" > "$T_TMP/mark.$n"; done
	store_edit save
	store_edit add "$@"
	for n in 1 2; do check "$name: h$n logs the refused store" wait_for 3 new_log "$n" "$pattern"; done
	check "$name: both agents keep running" agents_run
	check "$name: the data path stays (pods ping)" pods_ping
	for n in 1 2; do check "$name: h$n installed nothing" nothing_installed "$n"; done
	store_edit restore
	probe=$((probe + 1))
	value probe 10.244.$((200 + probe)).0/24 192.168.77.$((200 + probe)) 0e:00:00:00:cc:0$probe vxlan probe
	store_edit add "10.244.$((200 + probe)).0-24" "$T_TMP/v.probe"
	check "$name: both agents recover once the file is fixed" wait_for 15 recovered
	store_edit drop "10.244.$((200 + probe)).0-24"
}
# skipped NAME PATTERN KEY VALUE_FILE: the record is skipped by the store
# with PATTERN logged, while a valid record added beside it is installed.
skipped() {
	local name=$1 pattern=$2 n; shift 2
	for n in 1 2; do wc -l < "$T_TMP/h$n.log" > "$T_TMP/mark.$n"; done
	probe=$((probe + 1))
	value probe 10.244.$((200 + probe)).0/24 192.168.77.$((200 + probe)) 0e:00:00:00:cc:0$probe vxlan probe
	store_edit add "$@" "10.244.$((200 + probe)).0-24" "$T_TMP/v.probe"
	for n in 1 2; do check "$name: h$n logs the skipped record" wait_for 3 new_log "$n" "$pattern"; done
	check "$name: a valid record beside it is installed" wait_for 15 recovered
	check "$name: both agents keep running" agents_run
	check "$name: the data path stays (pods ping)" pods_ping
	for n in 1 2; do check "$name: h$n installed nothing for it" nothing_installed "$n"; done
	store_edit drop "$1" "10.244.$((200 + probe)).0-24"
}
value deep 10.244.111.0/24 192.168.77.111 0e:00:00:00:bb:11 vxlan bad-deep "$(nest 10000)"
refused "10,000 nested arrays" "does not parse: .*depth" 10.244.111.0-24 "$T_TMP/v.deep"
# "0.0.0.0" is how flannel writes "no IPv4": an IPv4 subnet without a
# public IP does not decode
value zeroip 10.244.105.0/24 0.0.0.0 0e:00:00:00:bb:05
skipped "an unspecified public IP" \
	'skipping lease record "10.244.105.0-24": lease 10.244.105.0-24: an IPv4 subnet needs a PublicIP' \
	10.244.105.0-24 "$T_TMP/v.zeroip"
value badkey 10.244.112.0/24 192.168.77.112 0e:00:00:00:bb:12
skipped "a malformed key" "skipping lease record \"not-a-subnet\": lease key 'not-a-subnet'" \
	not-a-subnet "$T_TMP/v.badkey"
skipped "a key its value contradicts (IPv6 key, IPv4 address)" \
	'skipping lease record "fd00:112::-64": lease fd00:112::-64: an IPv6 subnet needs a PublicIPv6' \
	fd00:112::-64 "$T_TMP/v.badkey"

for n in 1 2; do
	kill -TERM "${AGENT[$n]}"
	wait "${AGENT[$n]}"
	check "h$n's agent stops cleanly after all this" test "$?" -eq 0
done
if [ "$T_FAILED" -gt 0 ]; then
	for n in 1 2; do echo "--- h$n agent log"; cut -c1-300 "$T_TMP/h$n.log" | tail -60; done
fi
t_finish
