#!/bin/bash
# lease-etcd.sh - the etcd store's cost: acquire latency and convergence
# (acquired by one host, reported by another's watch), median and p99,
# printed beside the bare round trip of one etcd put through the same
# gateway in the same run.  Starts its own etcd on 127.0.0.1 (data in a
# temporary dir, stopped by PID).  Usage: bench/lease-etcd.sh [N]
set -u
N=${1:-200}
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${OVL_BUILD:-$TOP/build}
TOOL=$BUILD/tests/etcd/etcd-tool
export LD_LIBRARY_PATH="$BUILD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
command -v etcd >/dev/null || { echo "lease-etcd: etcd missing (apt-get install etcd-server)"; exit 1; }
[ -x "$TOOL" ] || { echo "lease-etcd: build $TOOL first (make tests/etcd/etcd-tool)"; exit 1; }

DIR=$(mktemp -d /tmp/ovl-bench-etcd.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CLIENT=$(port)
PEER=$(port)
etcd --name bench --data-dir "$DIR/data" \
	--listen-client-urls "http://127.0.0.1:$CLIENT" --advertise-client-urls "http://127.0.0.1:$CLIENT" \
	--listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
	--initial-cluster "bench=http://127.0.0.1:$PEER" --initial-cluster-state new >"$DIR/etcd.log" 2>&1 &
PID=$!
for _ in $(seq 150); do
	curl -sf "http://127.0.0.1:$CLIENT/health" >/dev/null && break
	sleep 0.1
done
echo '{"Network":"10.0.0.0/8","SubnetLen":24,"Backend":{"Type":"vxlan"}}' >"$DIR/net.json"

"$TOOL" "etcd://127.0.0.1:$CLIENT" bench "$DIR/net.json" "$N" "http://127.0.0.1:$CLIENT" >"$DIR/out" ||
	{ echo "lease-etcd: the benchmark failed"; exit 1; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$DIR/out"; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
put=$(val raw_put_us_median)
printf 'lease-etcd: %d acquires against etcd %s on loopback (load %s)\n' "$N" \
	"$(etcd --version | awk 'NR == 1 { print $3 }')" "$(cut -d' ' -f1 /proc/loadavg)"
printf '%-34s %9s %9s %s\n' "" "median ms" "p99 ms" "median / one put"
for k in raw_put acquire convergence; do
	printf '%-34s %9s %9s %s\n' "$k" "$(ms "$(val ${k}_us_median)")" \
		"$(ms "$(val ${k}_us_p99)")" "$(ratio "$(val ${k}_us_median)" "$put")"
done
