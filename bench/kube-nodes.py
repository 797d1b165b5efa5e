#!/usr/bin/env python3
"""kube-nodes.py - creates Nodes FIRST..LAST-1 on a kube-apiserver as flanneld
would have left them: spec.podCIDR 10.X.Y.0/24 (inside 10.0.0.0/8) and
flannel's annotations (kube-subnet-manager, backend-type vxlan, backend-data
with a VTEP MAC, public-ip 172.16.0.0/12), over THREADS keep-alive HTTPS
connections at once.  Prints the seconds it took.

    kube-nodes.py SERVER CA TOKEN FIRST LAST [THREADS]
"""
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse

PREFIX = "flannel.alpha.coreos.com/"


def node(i):
    mac = "0e:00:%02x:%02x:%02x:%02x" % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)
    cidr = "10.%d.%d.0/24" % (1 + (i >> 8), i & 255)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "n-%05d" % i,
            "annotations": {
                PREFIX + "kube-subnet-manager": "true",
                PREFIX + "backend-type": "vxlan",
                PREFIX + "backend-data": json.dumps({"VNI": 1, "VtepMAC": mac}, separators=(",", ":")),
                PREFIX + "public-ip": "172.%d.%d.%d" % (16 + (i >> 16), (i >> 8) & 255, i & 255),
            },
        },
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
    }


def worker(url, context, token, indexes, errors):
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=30)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    for i in indexes:
        conn.request("POST", "/api/v1/nodes", json.dumps(node(i)), headers)
        reply = conn.getresponse()
        body = reply.read()
        if reply.status not in (201, 409):
            errors.append("n-%05d: HTTP %d %s" % (i, reply.status, body[:200]))
            return


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    url = urllib.parse.urlsplit(sys.argv[1])
    context = ssl.create_default_context(cafile=sys.argv[2])
    token, first, last = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    threads = int(sys.argv[6]) if len(sys.argv) > 6 else 8
    errors = []
    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(url, context, token,
                                                     range(first + t, last, threads), errors))
               for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        sys.exit("kube-nodes: " + errors[0])
    print("%.2f" % (time.monotonic() - started))


if __name__ == "__main__":
    main()
