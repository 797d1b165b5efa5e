# lib-etcd.sh - sourced after lib.sh by the namespace tests that start a
# real etcd: skips the test when etcd is not installed, gives etcd a data
# dir on tmpfs (its fsyncs would dominate the run time; the caller's exit
# trap removes $ETCD_SHM) and stops it by PID.
export ETCDCTL_API=3
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	echo "SKIP: etcd or etcdctl missing (apt-get install etcd-server etcd-client)"
	t_finish
	exit
fi
ETCD_SHM=$(mktemp -d /dev/shm/ovl-etcd.XXXXXX)

# etcd_stop PID: SIGTERM, then SIGKILL after 5 s.
etcd_stop() {
	kill "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
}

# free_port: a TCP port on 127.0.0.1 nobody listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
