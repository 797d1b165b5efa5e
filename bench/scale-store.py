#!/usr/bin/env python3
"""scale-store.py - bench/scale.sh's hands on the stores: etcd's v3 JSON
gateway, and a file store document written whole.

  write ADDR FIRST COUNT      flanneld-format leases 10.X.Y.0/24, one etcd lease
                              each (TTL 24 h), puts batched in transactions
  grant ADDR COUNT FILE       grants COUNT etcd leases, their IDs into FILE
  put ADDR FIRST FILE         the leases of FILE's IDs, from FIRST on (timed apart
                              from the grants: what the agent sees is the puts)
  delete ADDR FIRST COUNT     deletes those keys, 100 per transaction
                              (put and delete print when their first write left,
                              epoch ms)
  config ADDR                 the network config (10.0.0.0/8, /24, vxlan)
  requests ADDR [METHOD]      etcd's request count so far (grpc_server_started_total),
                              of one gRPC method (Range, Txn, ...) when given
  flanneld ADDR ROUNDS GAP    flanneld's resync pattern ROUNDS times, GAP s apart:
                              one range, then one TimeToLive per listed key;
                              prints the mean wall ms and client CPU ms per round
  file PATH COUNT             a file store holding the config and COUNT leases
"""
import base64
import http.client
import json
import sys
import time

SUBNETS = "/coreos.com/network/subnets/"
TXN_OPS = 100        # etcd's default --max-txn-ops is 128
CONFIG = {"Network": "10.0.0.0/8", "SubnetLen": 24, "Backend": {"Type": "vxlan"}}


def b64(text):
    return base64.b64encode(text.encode()).decode()


def key(i):
    return "10.%d.%d.0-24" % (i >> 8, i & 255)


def value(i):
    return json.dumps({"PublicIP": "192.168.%d.%d" % ((i >> 8) & 255, i & 255),
                       "BackendType": "vxlan",
                       "BackendData": {"VNI": 1,
                                       "VtepMAC": "0e:00:00:00:%02x:%02x" % ((i >> 8) & 255,
                                                                             i & 255)}},
                      separators=(",", ":"))


class Etcd:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def raw(self, method, path, body=None):
        self.conn.request(method, path, body, {"Content-Type": "application/json"})
        reply = self.conn.getresponse()
        data = reply.read()
        if reply.status != 200:
            sys.exit("scale-store: %s: HTTP %d %s" % (path, reply.status, data[:200]))
        return data

    def call(self, path, body):
        return json.loads(self.raw("POST", path, json.dumps(body)))


def grant(etcd, count):
    return [etcd.call("/v3/lease/grant", {"TTL": 86400})["ID"] for _ in range(count)]


def started():
    """When the first write of a timed change goes out (epoch ms, stdout)."""
    print(int(time.time() * 1000), flush=True)


def put(etcd, first, ids, timed=False):
    for at in range(0, len(ids), TXN_OPS):
        if timed and not at:
            started()
        ops = [{"request_put": {"key": b64(SUBNETS + key(first + at + n)),
                                "value": b64(value(first + at + n)), "lease": lease}}
               for n, lease in enumerate(ids[at:at + TXN_OPS])]
        etcd.call("/v3/kv/txn", {"success": ops})


def delete(etcd, first, count):
    started()
    for at in range(0, count, TXN_OPS):
        ops = [{"request_delete_range": {"key": b64(SUBNETS + key(first + at + n))}}
               for n in range(min(TXN_OPS, count - at))]
        etcd.call("/v3/kv/txn", {"success": ops})


def requests(etcd, method=None):
    total = 0
    for line in etcd.raw("GET", "/metrics").decode().splitlines():
        if line.startswith("grpc_server_started_total{") and \
                (method is None or 'grpc_method="%s"' % method in line):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def flanneld(etcd, rounds, gap):
    """flanneld's listing: every record's TTL asked one by one."""
    end = SUBNETS[:-1] + chr(ord(SUBNETS[-1]) + 1)
    wall = cpu = 0.0
    for _ in range(rounds):
        start, start_cpu = time.monotonic(), time.process_time()
        listing = etcd.call("/v3/kv/range", {"key": b64(SUBNETS), "range_end": b64(end)})
        for kv in listing.get("kvs", []):
            if kv.get("lease"):
                etcd.call("/v3/lease/timetolive", {"ID": kv["lease"]})
        wall += time.monotonic() - start
        cpu += time.process_time() - start_cpu
        time.sleep(gap)
    print("%.1f %.1f" % (wall * 1000 / rounds, cpu * 1000 / rounds))


def file_store(path, count):
    expiration = int(time.time()) + 86400
    leases = {}
    for i in range(256, 256 + count):
        record = json.loads(value(i))
        record["Expiration"] = expiration
        leases[key(i)] = record
    document = {"version": 1, "revision": count, "config": CONFIG, "leases": leases}
    with open(path, "w") as out:
        json.dump(document, out, separators=(",", ":"))


def main(argv):
    if argv[1] == "file":
        file_store(argv[2], int(argv[3]))
        return
    etcd = Etcd(argv[2])
    if argv[1] == "write":
        put(etcd, int(argv[3]), grant(etcd, int(argv[4])))
    elif argv[1] == "grant":
        with open(argv[4], "w") as out:
            out.write("\n".join(grant(etcd, int(argv[3]))))
    elif argv[1] == "put":
        with open(argv[4]) as ids:
            put(etcd, int(argv[3]), ids.read().split(), timed=True)
    elif argv[1] == "delete":
        delete(etcd, int(argv[3]), int(argv[4]))
    elif argv[1] == "config":
        etcd.call("/v3/kv/put", {"key": b64("/coreos.com/network/config"),
                                 "value": b64(json.dumps(CONFIG))})
    elif argv[1] == "requests":
        print(requests(etcd, argv[3] if len(argv) > 3 else None))
    elif argv[1] == "flanneld":
        flanneld(etcd, int(argv[3]), float(argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
