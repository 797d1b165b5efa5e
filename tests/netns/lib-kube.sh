# lib-kube.sh - sourced after lib.sh (and lib-etcd.sh) by the tests that run
# a real kube-apiserver: builds it once into the cache when missing
# (tests/kube/build-apiserver.sh, ~5 min cold; a failed build fails the
# test), then kube_start runs etcd and the apiserver inside a namespace on
# its address with our own CA, stopped by PID.  Admin requests go through
# kube_api (curl with the admin token); kube_kubeconfig writes a
# kubeconfig for a client.
KUBE_CACHE=${OVL_KUBE_CACHE:-/var/cache/libovl-kube}
if ! KUBE_CACHE=$(OVL_KUBE_CACHE=$KUBE_CACHE sh "$OVL_TOP/tests/kube/build-apiserver.sh" | tail -1) ||
	[ ! -x "$KUBE_CACHE/kube-apiserver" ]; then
	echo "FAIL: building kube-apiserver (tests/kube/build-apiserver.sh)"
	T_FAILED=$((T_FAILED + 1))
	t_finish
	exit 1
fi
KUBECTL_BIN=$KUBE_CACHE/kubectl
KUBE_ADMIN_TOKEN=admin-token-$RANDOM$RANDOM
KUBE_DIR=$T_TMP/kube

# kube_pki IP: a CA, the apiserver's serving certificate for IP, the
# service account key and the token file (admin: system:masters; flannel:
# a plain user that RBAC must grant).
kube_pki() {
	local ip=$1
	mkdir -p "$KUBE_DIR"
	(
		cd "$KUBE_DIR" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
			-subj /CN=ovl-test-ca 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj /CN=kube-apiserver 2>/dev/null &&
		printf 'subjectAltName=IP:%s,IP:127.0.0.1\n' "$ip" > san.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out server.crt -days 2 -extfile san.ext 2>/dev/null &&
		openssl genrsa -out sa.key 2048 2>/dev/null &&
		printf '%s,admin,1,"system:masters"\nflannel-token-%s,flannel,2\nnobody-token-%s,nobody,3\n' \
			"$KUBE_ADMIN_TOKEN" "$RANDOM" "$RANDOM" > tokens.csv
	)
}
kube_token() { awk -F, -v u="$1" '$2 == u {print $1}' "$KUBE_DIR/tokens.csv"; }

# kube_start NS IP PORT [AUTHZ]: etcd (on NS's loopback, data on tmpfs) and
# the apiserver on IP:PORT (more flags in KUBE_APISERVER_ARGS); waits until
# /readyz answers.  Keeps the data and the PKI, so a second kube_start is
# an apiserver restart.  Call it directly, not inside $(...) or check: it
# sets KUBE_PID and KUBE_URL.
kube_start() {
	local ns=$1 ip=$2 port=$3 authz=${4:-AlwaysAllow}
	KUBE_NS=$ns KUBE_IP=$ip KUBE_PORT=$port KUBE_URL="https://$ip:$port"
	[ -f "$KUBE_DIR/ca.crt" ] || kube_pki "$ip" || return 1
	mkdir -p "$ETCD_SHM/kube"
	if [ -z "${KUBE_ETCD_PID:-}" ] || ! kill -0 "$KUBE_ETCD_PID" 2>/dev/null; then
		ip netns exec "$ns" etcd --name kube --data-dir "$ETCD_SHM/kube/etcd" \
			--listen-client-urls http://127.0.0.1:2379 \
			--advertise-client-urls http://127.0.0.1:2379 \
			--listen-peer-urls http://127.0.0.1:2380 \
			--initial-advertise-peer-urls http://127.0.0.1:2380 \
			--initial-cluster kube=http://127.0.0.1:2380 >> "$T_TMP/kube-etcd.log" 2>&1 &
		KUBE_ETCD_PID=$!
		track_pid "$KUBE_ETCD_PID"
	fi
	ip netns exec "$ns" "$KUBE_CACHE/kube-apiserver" \
		--etcd-servers http://127.0.0.1:2379 --bind-address "$ip" --secure-port "$port" \
		--insecure-port=0 --cert-dir "$KUBE_DIR/certs" \
		--tls-cert-file "$KUBE_DIR/server.crt" --tls-private-key-file "$KUBE_DIR/server.key" \
		--client-ca-file "$KUBE_DIR/ca.crt" \
		--token-auth-file "$KUBE_DIR/tokens.csv" --authorization-mode "$authz" \
		--service-account-key-file "$KUBE_DIR/sa.key" \
		--service-account-signing-key-file "$KUBE_DIR/sa.key" \
		--service-account-issuer https://kubernetes.default.svc \
		--service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
		--feature-gates=IPv6DualStack=true \
		--watch-cache=true --enable-priority-and-fairness=false ${KUBE_APISERVER_ARGS:-} \
		>> "$T_TMP/kube-apiserver.log" 2>&1 &
	KUBE_PID=$!
	track_pid "$KUBE_PID"
	wait_for 60 kube_api GET /readyz || { tail -20 "$T_TMP/kube-apiserver.log"; return 1; }
}
kube_stop() {
	etcd_stop "$KUBE_PID"
	wait "$KUBE_PID" 2>/dev/null	# no "Killed" notice from the shell
}
# kube_etcd_compact: compacts the apiserver's etcd up to its newest
# revision (what the apiserver does every 5 min), which makes older
# resourceVersions too old to watch from; prints that revision.
kube_etcd_compact() {
	local rev
	rev=$(ip netns exec "$KUBE_NS" etcdctl --endpoints=127.0.0.1:2379 endpoint status -w json |
		jq -r '.[0].Status.header.revision') && [ -n "$rev" ] &&
		ip netns exec "$KUBE_NS" etcdctl --endpoints=127.0.0.1:2379 compact "$rev" >/dev/null &&
		echo "$rev"
}

# kube_api METHOD PATH [BODY [CONTENT-TYPE]]: a request as admin; prints the
# reply, fails on an HTTP error.
kube_api() {
	local method=$1 path=$2 body=${3:-} type=${4:-application/json}
	ip netns exec "$KUBE_NS" curl -sf --cacert "$KUBE_DIR/ca.crt" -X "$method" \
		-H "Authorization: Bearer $KUBE_ADMIN_TOKEN" ${body:+-H "Content-Type: $type" --data "$body"} \
		"$KUBE_URL$path"
}
# kube_requests VERB [RESOURCE [SUBRESOURCE]]: requests the apiserver served
# so far (apiserver_request_total, every code; a watch counts when it ends)
# of that verb (LIST, WATCH, GET, PATCH..., or '*' for all) on that resource
# (default nodes, and none of its subresources).
kube_requests() {
	kube_api GET /metrics | awk -v verb="$1" -v res="${2:-nodes}" -v subres="${3:-}" '
		/^apiserver_request_total\{/ && (verb == "*" || index($0, "verb=\"" verb "\"")) &&
		index($0, "resource=\"" res "\"") && index($0, "subresource=\"" subres "\"") { n += $NF }
		END { print n + 0 }'
}
# kube_node_create NAME PODCIDR...: a Node with spec.podCIDR(s).
kube_node_create() {
	local name=$1 cidrs= c; shift
	for c in "$@"; do cidrs="$cidrs${cidrs:+,}\"$c\""; done
	kube_api POST /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$name\"},\"spec\":{\"podCIDR\":\"$1\",\"podCIDRs\":[$cidrs]}}" >/dev/null
}
kube_node_delete() { kube_api DELETE "/api/v1/nodes/$1" >/dev/null; }
# kube_node_annotate NODE KEY=VALUE...: sets flannel's annotations (the
# prefix is added) through nodes/status, as an agent writes them.
kube_node_annotate() {
	local node=$1 kv json=; shift
	for kv in "$@"; do
		json="$json${json:+,}$(jq -cn --arg k "flannel.alpha.coreos.com/${kv%%=*}" --arg v "${kv#*=}" '{($k): $v}' | sed 's/^{//; s/}$//')"
	done
	kube_api PATCH "/api/v1/nodes/$node/status" "{\"metadata\":{\"annotations\":{$json}}}" \
		application/strategic-merge-patch+json >/dev/null
}
# kube_pod_create NAMESPACE NAME NODE: a Pod bound to NODE (spec.nodeName:
# no scheduler, and it never runs: only its binding matters), with the
# namespace's default service account made first (no controller manager
# makes it).
kube_pod_create() {
	kube_api POST "/api/v1/namespaces/$1/serviceaccounts" \
		"{\"metadata\":{\"name\":\"default\"}}" >/dev/null 2>&1
	kube_api POST "/api/v1/namespaces/$1/pods" "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$2\"},\"spec\":{\"nodeName\":\"$3\",\"automountServiceAccountToken\":false,\"containers\":[{\"name\":\"agent\",\"image\":\"libovl/ovlctl\"}]}}" >/dev/null
}
# kube_annotation NODE NAME: a node's annotation (the prefix is flannel's).
kube_annotation() {
	kube_api GET "/api/v1/nodes/$1" | jq -r --arg k "flannel.alpha.coreos.com/$2" '.metadata.annotations[$k] // empty'
}
# kube_kubeconfig FILE USER [SERVER]: a kubeconfig for USER's token with the
# CA inline (certificate-authority-data).
kube_kubeconfig() {
	local file=$1 user=$2 server=${3:-$KUBE_URL}
	cat > "$file" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$KUBE_DIR/ca.crt")
users:
- name: $user
  user:
    token: $(kube_token "$user")
contexts:
- name: test
  context:
    cluster: test
    user: $user
current-context: test
YAML
}
