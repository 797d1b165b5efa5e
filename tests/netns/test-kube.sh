#!/bin/bash
# test-kube.sh - the agent as kube-flannel runs it (`ovlctl run
# --kube-subnet-mgr`) against a real kube-apiserver (built once into the
# cache by tests/kube/build-apiserver.sh) with etcd, both in the switch
# namespace.  Three hosts whose Nodes have pod CIDRs come up from
# flanneld's flags, write flanneld's annotations and the FlannelIsUp
# condition, and their pods ping each other; one finds its Node through its
# Pod (POD_NAME, POD_NAMESPACE), one publishes the address its Node's
# node-public-ip annotation pins.  A Node annotated by hand the
# way flanneld does becomes a peer and leaves with its deletion; one without
# the annotation does not.  A host whose Node has no pod CIDR yet waits for
# it.  A restarted agent whose device is gone takes its VTEP MAC back from
# its annotation; a frozen (SIGSTOP) and then a restarted apiserver leave
# the data path alone and the watch resumes.  An agent frozen while Nodes
# change and etcd is compacted gets 410 Gone, lists again and applies just
# the difference.  With RBAC, the manifest
# (examples/kube-flannel.yml) applies and its service account's token is
# enough in-cluster, one without the ClusterRole gets a 403 naming the
# permission.  Bad input gives errors that name the field.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-etcd.sh"
. "$(dirname "$0")/lib-kube.sh"
cleanup() {
	t_cleanup
	rm -rf "$ETCD_SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$OVL_BUILD/.libs/ovlctl" ] && OVLCTL="$OVL_BUILD/.libs/ovlctl"
API_IP=192.168.79.1
declare -A HOST POD AGENT
KC=$T_TMP/kubeconfig
NC=$T_TMP/net-conf.json
echo '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}' > "$NC"

host() {
	read -r "HOST[$1]" "POD[$1]" < <(node_host "$sw" "h$1" "192.168.79.1$1/24" "$1")
}
# agent N [VAR=VALUE...]: hN's agent from flanneld's DaemonSet flags, the
# node name from NODE_NAME as the manifest passes it, unless other
# variables are given (POD_NAME and POD_NAMESPACE); h1 serves /metrics.
agent() {
	local n=$1; shift
	[ $# -gt 0 ] || set -- "NODE_NAME=h$n"
	env -u NODE_NAME "$@" ip netns exec "${HOST[$n]}" "$OVLCTL" run --kube-subnet-mgr \
		--kubeconfig-file "$KC" --net-config-path "$NC" --iface eth0 \
		--subnet-file "$T_TMP/h$n.env" --resync 1 ${METRICS_PORT:+--listen $METRICS_PORT} \
		>> "$T_TMP/h$n.log" 2>&1 &
	AGENT[$n]=$!
	track_pid "${AGENT[$n]}"
}
metric() { # N NAME: the agent's counter
	ip netns exec "${HOST[$1]}" curl -sf "http://127.0.0.1:9124/metrics" | awk -v m="$2" '$1 == m {print $2}'
}
ready() { local n; for n in "$@"; do grep -q 'notice: ready' "$T_TMP/h$n.log" || return 1; done; }
running() { local n; for n in "$@"; do kill -0 "${AGENT[$n]}" 2>/dev/null || return 1; done; }
ping1() { ip netns exec "${POD[$1]}" ping -c1 -W1 -q "10.244.$2.2" >/dev/null 2>&1; }
pings() { # A B C...: A's pod reaches B's, B's reaches C's, ...
	while [ $# -ge 2 ]; do ping1 "$1" "$2" || return 1; shift; done
}
ready_and_pings() { ready "$1" && shift && pings "$@"; }
ready_with_mac() { ready "$1" && [ "$(mac_of "$1")" = "$2" ]; }
mac_of() { ip -n "${HOST[$1]}" -br link show flannel.1 | awk '{print $3}'; }
installed() { # N SUBNET MAC VTEP
	local h=${HOST[$1]} gw=${2%/*}
	ip -n "$h" route show "$2" | grep -q "via $gw dev flannel.1" &&
		ip -n "$h" neigh show "$gw" dev flannel.1 | grep -qi "lladdr $3" &&
		bridge -n "$h" fdb show dev flannel.1 | grep -qi "^$3 dst $4 "
}
installed_on() { # SUBNET MAC VTEP N...
	local subnet=$1 mac=$2 vtep=$3 n; shift 3
	for n in "$@"; do installed "$n" "$subnet" "$mac" "$vtep" || return 1; done
}
absent() { ! ip -n "${HOST[$1]}" route show "$2" | grep -q .; }
lease_list() { ip netns exec "$sw" "$OVLCTL" --store "$1" lease list; }
kstore() { echo "kube:$KC?net-config-path=$NC${1:+&node=$1}"; }
fails_with() { # TEXT COMMAND...: fails, and its message says TEXT
	local text=$1 out; shift
	if out=$("$@" 2>&1); then echo "succeeded: $out"; return 1; fi
	printf '%s\n' "$out" | grep -qF -- "$text" || { echo "message: $out"; return 1; }
}

# ---- the apiserver in the switch namespace; three Nodes ----------------
sw=$(underlay_add)
ip -n "$sw" addr add "$API_IP/24" dev br0
started=$SECONDS
kube_start "$sw" "$API_IP" 6443 RBAC
check "kube-apiserver (RBAC) and etcd start in the switch namespace" test $? = 0
echo "apiserver ready in $((SECONDS - started)) s"
kube_kubeconfig "$KC" admin
for n in 1 2 3; do
	host "$n"
	kube_node_create "h$n" "10.244.$n.0/24"
done
# h2's operator pins its public address to a second one on eth0 (flannel's
# node-public-ip, which flanneld takes as its --public-ip)
ip -n "${HOST[2]}" addr add 192.168.79.52/24 dev eth0
kube_api PATCH /api/v1/nodes/h2 '{"metadata":{"annotations":{"flannel.alpha.coreos.com/node-public-ip":"192.168.79.52"}}}' \
	application/strategic-merge-patch+json >/dev/null
# h3's agent runs in a Pod bound to h3, known by its name only
kube_pod_create default flannel-h3 h3

# ---- agents from flanneld's flags ----------------------------------------
METRICS_PORT=9124 agent 1
agent 2
agent 3 POD_NAME=flannel-h3 POD_NAMESPACE=default
check "three agents ready" wait_for 20 ready 1 2 3
mac1=$(mac_of 1)
check "annotations are flanneld's" test "$(kube_annotation h1 kube-subnet-manager)|$(kube_annotation h1 backend-type)|$(kube_annotation h1 backend-data)|$(kube_annotation h1 public-ip)" = \
	"true|vxlan|{\"VNI\":1,\"VtepMAC\":\"$mac1\"}|192.168.79.11"
check "node name from the Pod (POD_NAME, POD_NAMESPACE): its spec.nodeName" \
	grep -q "pod default/flannel-h3 runs on node h3" "$T_TMP/h3.log"
check "and h3's Node got the annotations" test "$(kube_annotation h3 public-ip)" = 192.168.79.13
check "node-public-ip is what h2 publishes as public-ip" test "$(kube_annotation h2 public-ip)" = 192.168.79.52
check "and the peers send to it (h1's fdb entry for h2)" installed 1 10.244.2.0/24 "$(mac_of 2)" 192.168.79.52
check "a Pod that does not exist: the agent says which" fails_with "pod default/nosuch not found" \
	env -u NODE_NAME POD_NAME=nosuch POD_NAMESPACE=default timeout 20 ip netns exec "$sw" "$OVLCTL" run \
	--kube-subnet-mgr --kubeconfig-file "$KC" --net-config-path "$NC" --subnet-file "$T_TMP/nosuch.env"
check "no NODE_NAME, no POD_NAME: a usage error" fails_with "POD_NAME and POD_NAMESPACE" \
	env -u NODE_NAME -u POD_NAME ip netns exec "$sw" "$OVLCTL" run --kube-subnet-mgr --kubeconfig-file "$KC"
flannel_is_up() {
	kube_api GET "/api/v1/nodes/$1" | jq -e '.status.conditions[] |
		select(.type == "NetworkUnavailable" and .status == "False" and .reason == "FlannelIsUp")'
}
check "NetworkUnavailable=False reason FlannelIsUp" flannel_is_up h2
check "pods ping across hosts (1->2, 2->3, 3->1)" wait_for 10 pings 1 2 3 1
lists=$(kube_requests LIST)
sleep 3
check "idle: resyncs every second list no Nodes (the watch is the informer)" \
	test "$(kube_requests LIST)" = "$lists"
three_leases() {
	ip netns exec "$sw" "$OVLCTL" --store "$(kstore)" --json lease list |
		jq -e 'length == 3 and ([.[].node] | sort) == ["h1","h2","h3"]'
}
check "lease list on the kube store shows the three nodes" three_leases

# ---- a Node annotated by hand the way flanneld writes it ---------------
ghost_mac=0e:11:22:33:44:99
kube_node_create ghost 10.244.9.0/24
kube_node_annotate ghost kube-subnet-manager=true backend-type=vxlan \
	"backend-data={\"VNI\":1,\"VtepMAC\":\"$ghost_mac\"}" public-ip=192.168.79.19
check "a flanneld-annotated Node becomes a peer (route, neighbour, fdb)" \
	wait_for 5 installed 1 10.244.9.0/24 "$ghost_mac" 192.168.79.19
kube_node_create plain 10.244.8.0/24
sleep 1
check "a Node without kube-subnet-manager is not a peer" absent 1 10.244.8.0/24
kube_node_delete ghost
check "deleting the Node removes its peer" wait_for 5 absent 1 10.244.9.0/24

# ---- a Node without a pod CIDR: the agent waits for it --------------------
host 4
kube_api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"h4"}}' >/dev/null
agent 4
check "no pod CIDR: the agent says so and keeps waiting" wait_for 5 grep -q "pod cidr not assigned" "$T_TMP/h4.log"
kube_api PATCH /api/v1/nodes/h4 '{"spec":{"podCIDR":"10.244.4.0/24","podCIDRs":["10.244.4.0/24"]}}' \
	application/strategic-merge-patch+json >/dev/null
check "once assigned, the agent comes up and its pod is reached" \
	wait_for 10 ready_and_pings 4 4 1 4

# ---- restart with the device gone: the VTEP MAC comes from the annotation --
mac2=$(mac_of 2)
kill "${AGENT[2]}"; wait "${AGENT[2]}" 2>/dev/null
ip -n "${HOST[2]}" link del flannel.1
: > "$T_TMP/h2.log"
agent 2
check "restarted agent takes its VTEP MAC back from backend-data" \
	wait_for 10 ready_with_mac 2 "$mac2"
check "and h1 still reaches h2's pod" wait_for 5 ping1 1 2

# ---- a frozen apiserver, then a restarted one ----------------------------
kill -STOP "$KUBE_PID"
check "apiserver frozen: pods still ping" pings 1 3 2
sleep 2
check "apiserver frozen: agents keep running" running 1 2 3 4
kill -CONT "$KUBE_PID"
kube_stop
kube_start "$sw" "$API_IP" 6443 RBAC
check "apiserver restarts on the same data" test $? = 0
kube_node_create late 10.244.7.0/24
kube_node_annotate late kube-subnet-manager=true backend-type=vxlan \
	'backend-data={"VNI":1,"VtepMAC":"0e:11:22:33:44:77"}' public-ip=192.168.79.17
check "the watch resumed: a Node added after the restart is a peer on all" \
	wait_for 15 installed_on 10.244.7.0/24 0e:11:22:33:44:77 192.168.79.17 1 2 3 4
check "pods still ping after the restart" pings 1 2 3

# ---- 410 Gone: a watch resuming from a compacted resourceVersion ---------
# h1's agent is frozen while the apiserver restarts without a watch cache
# for Nodes (their watches then go to etcd), a Node is deleted, one is
# added and etcd is compacted past what h1 has seen: resumed, its watch is
# told 410 Gone and lists again.  Exactly the difference must follow.
kill -STOP "${AGENT[1]}"
kube_stop
KUBE_APISERVER_ARGS=--watch-cache-sizes=nodes#0 kube_start "$sw" "$API_IP" 6443 RBAC
check "apiserver restarts with Node watches served by etcd" test $? = 0
kube_node_delete late
kube_node_create gap 10.244.5.0/24
kube_node_annotate gap kube-subnet-manager=true backend-type=vxlan \
	'backend-data={"VNI":1,"VtepMAC":"0e:11:22:33:44:55"}' public-ip=192.168.79.15
rev=$(kube_etcd_compact)
check "etcd compacted up to revision ${rev:-?}" test -n "$rev"
log_lines=$(wc -l < "$T_TMP/h1.log")
kill -CONT "${AGENT[1]}"
relisted() { tail -n +"$((log_lines + 1))" "$T_TMP/h1.log" | grep -Eq '(410 Gone|HTTP 410).*listing again'; }
check "h1's watch is told 410 Gone and lists again" wait_for 10 relisted
check "the Node added in the gap is installed" \
	wait_for 5 installed 1 10.244.5.0/24 0e:11:22:33:44:55 192.168.79.15
check "the Node deleted in the gap is removed (route, neighbour, fdb)" eval \
	"absent 1 10.244.7.0/24 && ! ip -n ${HOST[1]} neigh show dev flannel.1 | grep -qi 0e:11:22:33:44:77 &&
	 ! bridge -n ${HOST[1]} fdb show dev flannel.1 | grep -qi 0e:11:22:33:44:77"
peer_changes() {
	tail -n +"$((log_lines + 1))" "$T_TMP/h1.log" | grep -Eo 'peer [^ ]+ (added|changed|removed)' | sort | tr '\n' ,
}
check "exactly that difference, each once: nothing re-added, nothing stale" \
	test "$(peer_changes)" = "peer 10.244.5.0-24 added,peer 10.244.7.0-24 removed,"
check "ovl_store_watch_relists_total counts it" test "$(metric 1 ovl_store_watch_relists_total)" = 1
check "pods still ping after the relist" pings 1 2 3 1

# ---- RBAC: the manifest's ClusterRole is enough, no role is a 403 --------
kubectl_admin() { ip netns exec "$sw" "$KUBECTL_BIN" --kubeconfig "$KC" "$@"; }
check "the manifest applies (examples/kube-flannel.yml)" kubectl_admin apply -f "$OVL_TOP/examples/kube-flannel.yml"
# service account tokens through the TokenRequest API (no controller manager runs)
sa_token() { # NAMESPACE NAME
	kube_api POST "/api/v1/namespaces/$1/serviceaccounts/$2/token" \
		'{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":3600}}' |
		jq -r .status.token
}
kubectl_admin -n kube-flannel create serviceaccount unbound >/dev/null
for sa in flannel unbound; do
	mkdir -p "$T_TMP/sa-$sa"
	cp "$KUBE_DIR/ca.crt" "$T_TMP/sa-$sa/ca.crt"
	sa_token kube-flannel "$sa" > "$T_TMP/sa-$sa/token"
done
kube_node_create rbac 10.244.6.0/24
in_cluster() { # SA COMMAND...: ovlctl as a pod of service account SA would run
	local sa=$1; shift
	KUBERNETES_SERVICE_HOST=$API_IP KUBERNETES_SERVICE_PORT=6443 ip netns exec "$sw" "$OVLCTL" \
		--store "kube:?serviceaccount=$T_TMP/sa-$sa&net-config-path=$NC&node=rbac" "$@"
}
check "in-cluster, the manifest's service account lists the leases" in_cluster flannel lease list
check "and acquires (patches nodes/status)" in_cluster flannel lease acquire --node rbac --public-ip 192.168.79.36
check "its annotations are written" test "$(kube_annotation rbac public-ip)" = 192.168.79.36
check "without the ClusterRole: 403 naming the permission" fails_with \
	'cannot get resource "nodes"' in_cluster unbound lease acquire --node rbac --public-ip 192.168.79.36
check "without the ClusterRole: lease list is a 403 too" fails_with 'HTTP 403' in_cluster unbound lease list
kube_kubeconfig "$T_TMP/nobody.yaml" nobody
check "a user without any role: 403, not a hang" fails_with 'cannot list resource "nodes"' \
	lease_list "kube:$T_TMP/nobody.yaml"

# ---- bad input: each error names the field ------------------------------
check "missing kubeconfig" fails_with "$T_TMP/nope" lease_list "kube:$T_TMP/nope"
printf 'clusters: [\n  - name: x\n' > "$T_TMP/bad.yaml"
check "bad YAML names the line" fails_with "kubeconfig $T_TMP/bad.yaml: line" lease_list "kube:$T_TMP/bad.yaml"
grep -v current-context "$KC" > "$T_TMP/nocontext.yaml"
check "no current-context" fails_with "no current-context" lease_list "kube:$T_TMP/nocontext.yaml"
sed 's/current-context: test/current-context: other/' "$KC" > "$T_TMP/othercontext.yaml"
check "current-context not in contexts" fails_with "current-context 'other' is not in contexts" \
	lease_list "kube:$T_TMP/othercontext.yaml"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/other.key" -out "$T_TMP/other.crt" \
	-days 1 -subj /CN=other 2>/dev/null
sed "s|certificate-authority-data: .*|certificate-authority-data: $(base64 -w0 "$T_TMP/other.crt")|" "$KC" > "$T_TMP/otherca.yaml"
check "unknown CA: TLS refused" fails_with "server certificate not trusted" lease_list "kube:$T_TMP/otherca.yaml"
kube_node_create outside 10.99.0.0/24
check "pod CIDR outside Network names both" fails_with "doesn't contain 10.99.0.0/24 PodCIDR of the outside node" \
	ip netns exec "$sw" "$OVLCTL" --store "$(kstore outside)" lease acquire --node outside --public-ip 192.168.79.30
check "net config Network named too" fails_with "subnet 10.244.0.0/16" \
	ip netns exec "$sw" "$OVLCTL" --store "$(kstore outside)" lease acquire --node outside --public-ip 192.168.79.30
check "a Node that does not exist" fails_with "node nosuch not found" \
	ip netns exec "$sw" "$OVLCTL" --store "$(kstore nosuch)" lease acquire --node nosuch --public-ip 192.168.79.31
check "unknown URI option" fails_with "unknown option 'bogus'" lease_list "kube:$KC?bogus=1"
check "agents still running" running 1 2 3 4
[ -n "${OVL_KUBE_SHOW_LOGS:-}" ] && tail -n 30 "$T_TMP"/h[1-4].log
t_finish
