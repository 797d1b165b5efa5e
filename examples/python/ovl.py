"""ovl.py - a ctypes binding of libovl (no compiled part).

Every failing call raises OvlError carrying the errno and the library's own
message (ovl_ctx_error), e.g.::

    import ovl
    ctx = ovl.Context()
    cfg = ctx.config_parse('{"Network": "10.244.0.0/16"}')
    print(cfg.subnet_len(ovl.AF_INET))          # 24
    store = ctx.store_open("file:/tmp/leases.json")
    lease = store.lease(cfg, node_name="a", public_ip="192.168.77.11")
    print(lease.subnet())                       # 10.244.x.0/24

The library is found through $OVL_LIBRARY (a path), else the usual loader
search for libovl.so.0.  Objects free their C handles when collected; close()
does it at once.  Handles made from a Context keep it alive.
"""

import ctypes
import errno as _errno
import os
import socket

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6

WATCH_ADDED = 1
WATCH_REMOVED = 2

LEASE_RESERVE = 0x1
VXLAN_REPLACE = 0x1
VXLAN_TX_CHECKSUM_OFF = 0x2

_c_char_p = ctypes.c_char_p
_c_void_p = ctypes.c_void_p
_size_t = ctypes.c_size_t
_uint = ctypes.c_uint


def _load():
    path = os.environ.get("OVL_LIBRARY")
    return ctypes.CDLL(path or "libovl.so.0", use_errno=True)


_lib = _load()


class _LeaseRequest(ctypes.Structure):
    _fields_ = [
        ("size", _size_t),
        ("node_name", _c_char_p),
        ("public_ip", _c_char_p),
        ("public_ipv6", _c_char_p),
        ("backend_type", _c_char_p),
        ("backend_data", _c_char_p),
        ("backend_v6_data", _c_char_p),
        ("preferred_subnet", _c_char_p),
        ("preferred_ipv6_subnet", _c_char_p),
        ("ttl_seconds", _uint),
        ("flags", _uint),
    ]


class _SubnetEnv(ctypes.Structure):
    _fields_ = [
        ("size", _size_t),
        ("network", ctypes.c_char * 256),
        ("subnet", ctypes.c_char * 50),
        ("ipv6_network", ctypes.c_char * 256),
        ("ipv6_subnet", ctypes.c_char * 50),
        ("mtu", _uint),
        ("ipmasq", ctypes.c_int),
    ]


class _VxlanOptions(ctypes.Structure):
    _fields_ = [
        ("size", _size_t),
        ("name", _c_char_p),
        ("vni", ctypes.c_uint32),
        ("port", _uint),
        ("local", _c_char_p),
        ("dev", _c_char_p),
        ("subnet", _c_char_p),
        ("network", _c_char_p),
        ("mac", _c_char_p),
        ("mtu", _uint),
        ("gbp", ctypes.c_int),
        ("learning", ctypes.c_int),
        ("direct_routing", ctypes.c_int),
        ("flags", _uint),
    ]


class _NodeOptions(ctypes.Structure):
    _fields_ = [
        ("size", _size_t),
        ("node_name", _c_char_p),
        ("iface", _c_char_p),
        ("public_ip", _c_char_p),
        ("public_ipv6", _c_char_p),
        ("subnet_file", _c_char_p),
        ("ttl_seconds", _uint),
        ("renew_margin_seconds", _uint),
        ("resync_seconds", _uint),
        ("ip_masq", ctypes.c_int),
        ("flags", _uint),
    ]


class _NodeStatus(ctypes.Structure):
    _fields_ = [
        ("size", _size_t),
        ("ready", ctypes.c_int),
        ("lease_lost", ctypes.c_int),
        ("subnet", ctypes.c_char * 50),
        ("ipv6_subnet", ctypes.c_char * 50),
        ("backend", ctypes.c_char * 16),
        ("device", ctypes.c_char * 16),
        ("mac", ctypes.c_char * 18),
        ("public_ip", ctypes.c_char * 46),
        ("public_ipv6", ctypes.c_char * 46),
        ("iface", ctypes.c_char * 16),
        ("mtu", _uint),
        ("peers", _uint),
        ("skipped", _uint),
        ("lease_expiration", ctypes.c_int64),
        ("last_sync", ctypes.c_int64),
        ("last_error", ctypes.c_int),
        ("last_error_text", ctypes.c_char * 256),
        ("link", ctypes.c_char * 32),
        ("ipv6_link", ctypes.c_char * 32),
    ]


NODE_TEARDOWN = 0x1


class _Peer(ctypes.Structure):
    _fields_ = [("subnet", _c_char_p), ("public_ip", _c_char_p), ("mac", _c_char_p)]


def _declare(name, restype, *argtypes):
    function = getattr(_lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    return function


_P = ctypes.POINTER
_int = ctypes.c_int
_declare("ovl_version", _c_char_p)
_declare("ovl_strerror", _c_char_p, _int)
_declare("ovl_free", None, _c_void_p)
_declare("ovl_ctx_new", _int, _P(_c_void_p))
_declare("ovl_ctx_free", None, _c_void_p)
_declare("ovl_ctx_error", _c_char_p, _c_void_p)
_declare("ovl_ctx_set_netns_name", _int, _c_void_p, _c_char_p)
_declare("ovl_config_parse", _int, _c_void_p, _c_char_p, _P(_c_void_p))
_declare("ovl_config_load", _int, _c_void_p, _c_char_p, _P(_c_void_p))
_declare("ovl_config_free", None, _c_void_p)
_declare("ovl_config_to_json", _c_void_p, _c_void_p)
_declare("ovl_config_subnet_len", _uint, _c_void_p, _int)
_declare("ovl_config_backend_type", _c_char_p, _c_void_p)
_declare("ovl_config_vni", ctypes.c_uint32, _c_void_p)
_declare("ovl_store_open", _int, _c_void_p, _c_char_p, _P(_c_void_p))
_declare("ovl_store_close", None, _c_void_p)
_declare("ovl_lease", _int, _c_void_p, _c_void_p, _P(_LeaseRequest), _P(_c_void_p))
_declare("ovl_lease_renew", _int, _c_void_p, _c_void_p, _uint)
_declare("ovl_lease_release", _int, _c_void_p, _c_void_p)
_declare("ovl_leases", _int, _c_void_p, _P(_P(_c_void_p)), _P(_size_t))
_declare("ovl_leases_free", None, _P(_c_void_p), _size_t)
_declare("ovl_lease_free", None, _c_void_p)
_declare("ovl_lease_key", _c_char_p, _c_void_p)
_declare("ovl_lease_subnet", _c_char_p, _c_void_p, _int)
_declare("ovl_lease_public_ip", _c_char_p, _c_void_p, _int)
_declare("ovl_lease_node_name", _c_char_p, _c_void_p)
_declare("ovl_lease_backend_type", _c_char_p, _c_void_p)
_declare("ovl_lease_backend_data", _c_char_p, _c_void_p, _int)
_declare("ovl_lease_expiration", ctypes.c_int64, _c_void_p)
_declare("ovl_lease_is_reservation", _int, _c_void_p)
_declare("ovl_lease_is_lost", _int, _c_void_p)
_declare("ovl_watch_open", _int, _c_void_p, _P(_c_void_p))
_declare("ovl_watch_fd", _int, _c_void_p)
_declare("ovl_watch_next", _int, _c_void_p, _P(_int), _P(_c_void_p))
_declare("ovl_watch_close", None, _c_void_p)
_declare("ovl_subnet_env_write", _int, _c_void_p, _c_char_p, _P(_SubnetEnv))
_declare("ovl_subnet_env_read", _int, _c_void_p, _c_char_p, _P(_SubnetEnv))
_declare("ovl_vxlan_up", _int, _c_void_p, _P(_VxlanOptions), _P(_c_void_p))
_declare("ovl_link_open", _int, _c_void_p, _c_char_p, _P(_c_void_p))
_declare("ovl_link_down", _int, _c_void_p)
_declare("ovl_link_free", None, _c_void_p)
_declare("ovl_link_name", _c_char_p, _c_void_p)
_declare("ovl_link_mac", _c_char_p, _c_void_p)
_declare("ovl_link_mtu", _uint, _c_void_p)
_declare("ovl_peer_add", _int, _c_void_p, _P(_Peer))
_declare("ovl_peer_del", _int, _c_void_p, _P(_Peer))
_declare("ovl_peer_sync", _int, _c_void_p, _P(_Peer), _size_t)
_declare("ovl_peer_list", _int, _c_void_p, _P(_P(_Peer)), _P(_size_t))
_declare("ovl_peers_free", None, _P(_Peer), _size_t)
_declare("ovl_node_start", _int, _c_void_p, _c_void_p, _c_void_p, _P(_NodeOptions),
         _P(_c_void_p))
_declare("ovl_node_fd", _int, _c_void_p)
_declare("ovl_node_dispatch", _int, _c_void_p)
_declare("ovl_node_next_timeout_ms", _int, _c_void_p)
_declare("ovl_node_status", _int, _c_void_p, _P(_NodeStatus))
_declare("ovl_node_stop", _int, _c_void_p, _uint)


def version():
    """The loaded library's version, e.g. '0.1.0'."""
    return _lib.ovl_version().decode()


def _text(value):
    return value.decode() if value is not None else None


def _bytes(value):
    return value.encode() if value is not None else None


class OvlError(OSError):
    """A libovl call failed: errno, strerror and the library's message."""

    def __init__(self, err, message, call):
        code = -err
        detail = message or _text(_lib.ovl_strerror(err))
        super().__init__(code, "%s: %s" % (call, detail))
        self.call = call
        self.message = detail


class Context:
    """A libovl context: the last error, the target network namespace."""

    def __init__(self, netns=None):
        handle = _c_void_p()
        self._check(_lib.ovl_ctx_new(ctypes.byref(handle)), "ovl_ctx_new")
        self._handle = handle
        if netns is not None:
            self._check(_lib.ovl_ctx_set_netns_name(self._handle, _bytes(netns)),
                        "ovl_ctx_set_netns_name")

    def _check(self, err, call):
        if err < 0:
            handle = getattr(self, "_handle", None)
            message = _text(_lib.ovl_ctx_error(handle)) if handle else None
            raise OvlError(err, message, call)
        return err

    def close(self):
        if self._handle:
            _lib.ovl_ctx_free(self._handle)
            self._handle = None

    __del__ = close

    def config_parse(self, text):
        handle = _c_void_p()
        self._check(_lib.ovl_config_parse(self._handle, _bytes(text), ctypes.byref(handle)),
                    "ovl_config_parse")
        return Config(self, handle)

    def config_load(self, path):
        handle = _c_void_p()
        self._check(_lib.ovl_config_load(self._handle, _bytes(path), ctypes.byref(handle)),
                    "ovl_config_load")
        return Config(self, handle)

    def store_open(self, uri=None):
        handle = _c_void_p()
        self._check(_lib.ovl_store_open(self._handle, _bytes(uri), ctypes.byref(handle)),
                    "ovl_store_open")
        return Store(self, handle)

    def vxlan_up(self, local, subnet, network=None, dev=None, vni=0, port=0, mac=None,
                 mtu=0, name=None, replace=False):
        options = _VxlanOptions(size=ctypes.sizeof(_VxlanOptions), name=_bytes(name),
                                vni=vni, port=port, local=_bytes(local), dev=_bytes(dev),
                                subnet=_bytes(subnet), network=_bytes(network),
                                mac=_bytes(mac), mtu=mtu,
                                flags=VXLAN_REPLACE if replace else 0)
        handle = _c_void_p()
        self._check(_lib.ovl_vxlan_up(self._handle, ctypes.byref(options), ctypes.byref(handle)),
                    "ovl_vxlan_up")
        return Link(self, handle)

    def node_start(self, store, config, node_name=None, iface=None, public_ip=None,
                   public_ipv6=None, subnet_file=None, ttl_seconds=0, resync_seconds=0,
                   ip_masq=False):
        """The embedded agent; poll node.fileno() and call node.dispatch()."""
        options = _NodeOptions(size=ctypes.sizeof(_NodeOptions), node_name=_bytes(node_name),
                               iface=_bytes(iface), public_ip=_bytes(public_ip),
                               public_ipv6=_bytes(public_ipv6),
                               subnet_file=_bytes(subnet_file), ttl_seconds=ttl_seconds,
                               resync_seconds=resync_seconds, ip_masq=int(ip_masq))
        handle = _c_void_p()
        self._check(_lib.ovl_node_start(self._handle, store._handle, config._handle,
                                        ctypes.byref(options), ctypes.byref(handle)),
                    "ovl_node_start")
        return Node(self, handle, store, config)

    def link_open(self, name):
        handle = _c_void_p()
        self._check(_lib.ovl_link_open(self._handle, _bytes(name), ctypes.byref(handle)),
                    "ovl_link_open")
        return Link(self, handle)

    def subnet_env_write(self, path=None, network="", subnet="", ipv6_network="",
                         ipv6_subnet="", mtu=0, ipmasq=False):
        env = _SubnetEnv(size=ctypes.sizeof(_SubnetEnv), network=_bytes(network),
                         subnet=_bytes(subnet), ipv6_network=_bytes(ipv6_network),
                         ipv6_subnet=_bytes(ipv6_subnet), mtu=mtu, ipmasq=int(ipmasq))
        self._check(_lib.ovl_subnet_env_write(self._handle, _bytes(path), ctypes.byref(env)),
                    "ovl_subnet_env_write")

    def subnet_env_read(self, path=None):
        env = _SubnetEnv(size=ctypes.sizeof(_SubnetEnv))
        self._check(_lib.ovl_subnet_env_read(self._handle, _bytes(path), ctypes.byref(env)),
                    "ovl_subnet_env_read")
        return {"network": _text(env.network), "subnet": _text(env.subnet),
                "ipv6_network": _text(env.ipv6_network), "ipv6_subnet": _text(env.ipv6_subnet),
                "mtu": env.mtu, "ipmasq": bool(env.ipmasq)}


class _Owned:
    """A handle tied to its Context, freed by _free_function."""

    _free_function = None

    def __init__(self, ctx, handle):
        self._ctx = ctx
        self._handle = handle

    def close(self):
        if getattr(self, "_handle", None):
            type(self)._free_function(self._handle)
            self._handle = None

    __del__ = close


class Config(_Owned):
    _free_function = _lib.ovl_config_free

    def subnet_len(self, family=AF_INET):
        return _lib.ovl_config_subnet_len(self._handle, family)

    @property
    def backend_type(self):
        return _text(_lib.ovl_config_backend_type(self._handle))

    @property
    def vni(self):
        return _lib.ovl_config_vni(self._handle)

    def to_json(self):
        pointer = _lib.ovl_config_to_json(self._handle)
        if not pointer:
            raise OvlError(-_errno.ENOMEM, None, "ovl_config_to_json")
        try:
            return ctypes.string_at(pointer).decode()
        finally:
            _lib.ovl_free(pointer)


class Lease(_Owned):
    _free_function = _lib.ovl_lease_free

    key = property(lambda self: _text(_lib.ovl_lease_key(self._handle)))
    node_name = property(lambda self: _text(_lib.ovl_lease_node_name(self._handle)))
    backend_type = property(lambda self: _text(_lib.ovl_lease_backend_type(self._handle)))
    expiration = property(lambda self: _lib.ovl_lease_expiration(self._handle))
    is_reservation = property(lambda self: bool(_lib.ovl_lease_is_reservation(self._handle)))
    is_lost = property(lambda self: bool(_lib.ovl_lease_is_lost(self._handle)))

    def subnet(self, family=AF_INET):
        return _text(_lib.ovl_lease_subnet(self._handle, family))

    def public_ip(self, family=AF_INET):
        return _text(_lib.ovl_lease_public_ip(self._handle, family))

    def backend_data(self, family=AF_INET):
        return _text(_lib.ovl_lease_backend_data(self._handle, family))

    def __repr__(self):
        return "<Lease %s node=%s public_ip=%s>" % (self.key, self.node_name, self.public_ip())


class Store(_Owned):
    _free_function = _lib.ovl_store_close

    def lease(self, config, node_name=None, public_ip=None, public_ipv6=None,
              backend_type=None, backend_data=None, preferred_subnet=None,
              ttl_seconds=0, reserve=False):
        request = _LeaseRequest(size=ctypes.sizeof(_LeaseRequest), node_name=_bytes(node_name),
                                public_ip=_bytes(public_ip), public_ipv6=_bytes(public_ipv6),
                                backend_type=_bytes(backend_type),
                                backend_data=_bytes(backend_data),
                                preferred_subnet=_bytes(preferred_subnet),
                                ttl_seconds=ttl_seconds,
                                flags=LEASE_RESERVE if reserve else 0)
        handle = _c_void_p()
        self._ctx._check(_lib.ovl_lease(self._handle, config._handle, ctypes.byref(request),
                                        ctypes.byref(handle)), "ovl_lease")
        return Lease(self._ctx, handle)

    def renew(self, lease, ttl_seconds=0):
        self._ctx._check(_lib.ovl_lease_renew(self._handle, lease._handle, ttl_seconds),
                         "ovl_lease_renew")

    def release(self, lease):
        self._ctx._check(_lib.ovl_lease_release(self._handle, lease._handle),
                         "ovl_lease_release")

    def leases(self):
        array = _P(_c_void_p)()
        count = _size_t()
        self._ctx._check(_lib.ovl_leases(self._handle, ctypes.byref(array), ctypes.byref(count)),
                         "ovl_leases")
        # Take each lease out of the array so it is freed on its own.
        result = []
        for index in range(count.value):
            result.append(Lease(self._ctx, _c_void_p(array[index])))
            array[index] = None
        _lib.ovl_leases_free(array, count.value)
        return result

    def watch(self):
        handle = _c_void_p()
        self._ctx._check(_lib.ovl_watch_open(self._handle, ctypes.byref(handle)),
                         "ovl_watch_open")
        return Watch(self._ctx, handle, self)


class Watch(_Owned):
    _free_function = _lib.ovl_watch_close

    def __init__(self, ctx, handle, store):
        super().__init__(ctx, handle)
        self._store = store  # the watch must not outlive its store

    def fileno(self):
        return _lib.ovl_watch_fd(self._handle)

    def next(self):
        """(event, Lease) or None when nothing is pending."""
        event = _int()
        handle = _c_void_p()
        err = _lib.ovl_watch_next(self._handle, ctypes.byref(event), ctypes.byref(handle))
        if err == -_errno.EAGAIN:
            return None
        self._ctx._check(err, "ovl_watch_next")
        return event.value, Lease(self._ctx, handle)


def _peer_array(peers):
    array = (_Peer * max(len(peers), 1))()
    for index, peer in enumerate(peers):
        array[index] = _Peer(_bytes(peer["subnet"]), _bytes(peer.get("public_ip")),
                             _bytes(peer.get("mac")))
    return array


class Link(_Owned):
    _free_function = _lib.ovl_link_free

    name = property(lambda self: _text(_lib.ovl_link_name(self._handle)))
    mac = property(lambda self: _text(_lib.ovl_link_mac(self._handle)))
    mtu = property(lambda self: _lib.ovl_link_mtu(self._handle))

    def down(self):
        self._ctx._check(_lib.ovl_link_down(self._handle), "ovl_link_down")

    def peer_add(self, subnet, public_ip, mac=None):
        peer = _Peer(_bytes(subnet), _bytes(public_ip), _bytes(mac))
        self._ctx._check(_lib.ovl_peer_add(self._handle, ctypes.byref(peer)), "ovl_peer_add")

    def peer_del(self, subnet, public_ip=None, mac=None):
        peer = _Peer(_bytes(subnet), _bytes(public_ip), _bytes(mac))
        self._ctx._check(_lib.ovl_peer_del(self._handle, ctypes.byref(peer)), "ovl_peer_del")

    def peer_sync(self, peers):
        """peers: a list of dicts with subnet, public_ip and mac."""
        self._ctx._check(_lib.ovl_peer_sync(self._handle, _peer_array(peers), len(peers)),
                         "ovl_peer_sync")

    def peers(self):
        array = _P(_Peer)()
        count = _size_t()
        self._ctx._check(_lib.ovl_peer_list(self._handle, ctypes.byref(array),
                                            ctypes.byref(count)), "ovl_peer_list")
        try:
            return [{"subnet": _text(array[i].subnet), "public_ip": _text(array[i].public_ip),
                     "mac": _text(array[i].mac)} for i in range(count.value)]
        finally:
            _lib.ovl_peers_free(array, count.value)


class Node:
    """A running agent (ovl_node); stop() ends it, keeping the data path unless
    teardown is set."""

    def __init__(self, ctx, handle, store, config):
        self._ctx = ctx
        self._handle = handle
        self._keep = (store, config)  # the node uses both until it stops

    def fileno(self):
        return _lib.ovl_node_fd(self._handle)

    def dispatch(self):
        self._ctx._check(_lib.ovl_node_dispatch(self._handle), "ovl_node_dispatch")

    def next_timeout_ms(self):
        return _lib.ovl_node_next_timeout_ms(self._handle)

    def status(self):
        status = _NodeStatus(size=ctypes.sizeof(_NodeStatus))
        self._ctx._check(_lib.ovl_node_status(self._handle, ctypes.byref(status)),
                         "ovl_node_status")
        result = {}
        for name, _ in _NodeStatus._fields_[1:]:
            value = getattr(status, name)
            result[name] = value.decode() if isinstance(value, bytes) else value
        result["ready"] = bool(result["ready"])
        result["lease_lost"] = bool(result["lease_lost"])
        return result

    def stop(self, teardown=False):
        if self._handle:
            handle, self._handle = self._handle, None
            self._ctx._check(_lib.ovl_node_stop(handle, NODE_TEARDOWN if teardown else 0),
                             "ovl_node_stop")

    def __del__(self):
        if getattr(self, "_handle", None):
            _lib.ovl_node_stop(self._handle, 0)
