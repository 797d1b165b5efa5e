"""test_ovl.py - the Python binding end to end: config errors as exceptions,
leases on a file store, and a 2-host VXLAN overlay in the namespaces that
tests/netns/test-python.sh made (names passed in the environment).

Prints PASS/FAIL per check and the `TESTS: P F` line run-all.sh counts."""

import errno
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["OVL_TOP"], "examples", "python"))
import ovl  # noqa: E402

passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print("PASS: %s" % name)
    else:
        failed += 1
        print("FAIL: %s %s" % (name, detail))


def ping(namespace, address, count=1):
    result = subprocess.run(["ip", "netns", "exec", namespace, "ping", "-c", str(count),
                             "-W", "1", "-q", address], capture_output=True)
    return result.returncode == 0


def main():
    env = os.environ
    h1, h2, p1, p2 = env["H1"], env["H2"], env["P1"], env["P2"]
    tmp = env["T_TMP"]
    network = "10.244.0.0/16"

    check("version", ovl.version() == "0.2.0", ovl.version())
    ctx = ovl.Context()
    try:
        ctx.config_parse('{"Network": "10.244.0.0/16", "SubnetLen": 31}')
        check("bad config raises", False)
    except ovl.OvlError as error:
        check("bad config raises EINVAL", error.errno == errno.EINVAL, repr(error))
        check("message names the field", "SubnetLen" in error.message, error.message)

    config = ctx.config_parse('{"network": "%s", "backend": {"type": "vxlan"}}' % network)
    check("config keys are case-insensitive", config.subnet_len() == 24)
    check("default VNI", config.vni == 1)
    check("backend type", config.backend_type == "vxlan")
    check("config JSON", '"subnet_len"' in config.to_json(), config.to_json())

    store = ctx.store_open("file:%s/leases.json" % tmp)
    lease1 = store.lease(config, node_name="py-h1", public_ip="192.168.77.11")
    lease2 = store.lease(config, node_name="py-h2", public_ip="192.168.77.12")
    check("two distinct subnets", lease1.subnet() != lease2.subnet(),
          "%s %s" % (lease1.subnet(), lease2.subnet()))
    again = store.lease(config, node_name="py-h1", public_ip="192.168.77.11")
    check("acquire is idempotent", again.subnet() == lease1.subnet())
    check("lease list", sorted(l.node_name for l in store.leases()) == ["py-h1", "py-h2"])
    try:
        store.lease(config, node_name="py-h3", public_ip="not-an-ip")
        check("bad public IP raises", False)
    except ovl.OvlError as error:
        check("bad public IP raises EINVAL", error.errno == errno.EINVAL, repr(error))

    # The 2-host overlay, one context per host namespace.
    ctx1, ctx2 = ovl.Context(netns=h1), ovl.Context(netns=h2)
    link1 = ctx1.vxlan_up(local="192.168.77.11", subnet=lease1.subnet(), network=network)
    link2 = ctx2.vxlan_up(local="192.168.77.12", subnet=lease2.subnet(), network=network)
    check("device name", link1.name == "flannel.1", link1.name)
    check("MTU is underlay - 50", link1.mtu == 1450, str(link1.mtu))
    link1.peer_add(lease2.subnet(), "192.168.77.12", link2.mac)
    link2.peer_sync([{"subnet": lease1.subnet(), "public_ip": "192.168.77.11",
                      "mac": link1.mac}])
    pod2 = lease2.subnet().replace(".0/24", ".2")
    pod1 = lease1.subnet().replace(".0/24", ".2")
    check("pod1 reaches pod2 over the overlay", ping(p1, pod2, 2))
    check("pod2 reaches pod1 over the overlay", ping(p2, pod1, 2))
    peers = link1.peers()
    check("peer list", [p["subnet"] for p in peers] == [lease2.subnet()], repr(peers))
    try:
        link1.peer_add("10.99.0.0/24", "192.168.77.12", link2.mac)
        check("peer outside the network raises", False)
    except ovl.OvlError as error:
        check("peer outside the network raises EINVAL", error.errno == errno.EINVAL,
              repr(error))
    link1.peer_sync([])
    check("sync to no peers removes the peer", link1.peers() == [])
    check("pod1 no longer reaches pod2", not ping(p1, pod2))
    link1.down()
    link2.down()
    check("link down removes the device", subprocess.run(
        ["ip", "-n", h1, "link", "show", "flannel.1"], capture_output=True).returncode != 0)
    lease3 = store.lease(config, node_name="py-h3", public_ip="192.168.77.13")
    store.release(lease3)
    check("release", sorted(l.node_name for l in store.leases()) == ["py-h1", "py-h2"])

    # The embedded agent, driven from this process's own poll loop: the two
    # nodes keep their subnets (same node names) and find each other.
    nodes = [ctx1.node_start(store, config, node_name="py-h1", iface="eth0",
                             subnet_file="%s/h1.env" % tmp),
             ctx2.node_start(ovl.Context(netns=h2).store_open("file:%s/leases.json" % tmp),
                             config, node_name="py-h2", iface="eth0",
                             subnet_file="%s/h2.env" % tmp)]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if all(n.status()["ready"] and n.status()["peers"] == 1 for n in nodes):
            break
        readable, _, _ = select.select(nodes, [], [], 0.1)
        for node in readable:
            node.dispatch()
    status = nodes[0].status()
    check("node ready with one peer", status["ready"] and status["peers"] == 1, repr(status))
    check("node kept its subnet", status["subnet"] == lease1.subnet(), repr(status))
    check("subnet.env written", ctx.subnet_env_read("%s/h1.env" % tmp)["subnet"] ==
          lease1.subnet().replace(".0/24", ".1/24"))
    check("pods reach each other through the agents", ping(p1, pod2, 2) and ping(p2, pod1, 2))
    for node in nodes:
        node.stop(teardown=True)
    check("teardown removes the device", subprocess.run(
        ["ip", "-n", h1, "link", "show", "flannel.1"], capture_output=True).returncode != 0)
    check("teardown releases the leases", store.leases() == [])
    print("TESTS: %d %d" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
