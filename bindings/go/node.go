// node.go - Node: the embedded agent (flanneld's main loop as an object),
// its status, and Run, the loop that polls its descriptor and dispatches
// in a goroutine until a context.Context is done.
package ovl

/*
#include <ovl.h>
*/
import "C"

import (
	"context"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// NodeOptions are ovl_node_start(3)'s options; zero values take defaults.
type NodeOptions struct {
	NodeName    string        // lease identity; "": the public IP
	Iface       string        // underlay interface; "": the one holding PublicIP, else the default route's
	PublicIP    string        // underlay IPv4; "": Iface's first
	PublicIPv6  string        // underlay IPv6 (IPv6 networks)
	SubnetFile  string        // "": /run/flannel/subnet.env
	TTL         time.Duration // lease TTL in whole seconds; 0: 24 hours
	RenewMargin time.Duration // renew this long before expiry; 0: TTL/24
	Resync      time.Duration // full peer resync period; 0: 60 s
	IPMasq      bool          // FLANNEL_IPMASQ in subnet.env
}

// Node is a running agent.  Run drives it; Stop ends it.
type Node struct {
	ctx    *Context
	store  *Store
	config *Config
	c      *C.struct_ovl_node // guarded by ctx.mu and store.ctx.mu
	fd     int
	guard  loopGuard
}

// NodeStatus is a snapshot of the agent (ovl_node_status(3)).
type NodeStatus struct {
	Ready           bool // lease held, device up, peers synced
	LeaseLost       bool // the lease was taken or vanished, not re-acquired yet
	Subnet          string
	IPv6Subnet      string
	Backend         string // "vxlan"
	Device          string // "flannel.1"
	MAC             string
	PublicIP        string
	PublicIPv6      string
	Iface           string
	MTU             int       // FLANNEL_MTU
	Peers           int       // peers installed
	Skipped         int       // lease records that failed validation
	LeaseExpiration time.Time // zero for a reservation
	LastSync        time.Time // the last full resync
	LastError       error     // the last failure of a step, nil when none
}

// StartNode picks the underlay, acquires the lease, brings up the backend,
// installs every peer and writes subnet.env (ovl_node_start(3)).  The node
// uses store and config until it stops: their Close fails (EBUSY) until
// then.
func (ctx *Context) StartNode(store *Store, config *Config, options NodeOptions) (*Node, error) {
	var list cStrings
	defer list.free()
	o := C.struct_ovl_node_options{
		node_name:            list.add(options.NodeName),
		iface:                list.add(options.Iface),
		public_ip:            list.add(options.PublicIP),
		public_ipv6:          list.add(options.PublicIPv6),
		subnet_file:          list.add(options.SubnetFile),
		ttl_seconds:          C.uint(options.TTL / time.Second),
		renew_margin_seconds: C.uint(options.RenewMargin / time.Second),
		resync_seconds:       C.uint(options.Resync / time.Second),
		ip_masq:              cBool(options.IPMasq),
	}
	o.size = C.size_t(unsafe.Sizeof(o))
	if !config.use(1) {
		return nil, errorOf("ovl_node_start", syscall.EBADF)
	}
	unlock := lockContexts(ctx, store.ctx)
	defer unlock()
	if store.c == nil {
		config.use(-1)
		return nil, errorOf("ovl_node_start", syscall.EBADF)
	}
	var c *C.struct_ovl_node
	var err error
	config.read(func(cc *C.struct_ovl_config) {
		err = ctx.callLocked("ovl_node_start", func(x *C.struct_ovl_ctx) C.int {
			return C.ovl_node_start(x, store.c, cc, &o, &c)
		})
	})
	if err != nil {
		config.use(-1)
		return nil, err
	}
	store.users++
	ctx.adopt()
	node := &Node{ctx: ctx, store: store, config: config, c: c, fd: int(C.ovl_node_fd(c))}
	runtime.SetFinalizer(node, (*Node).Close)
	return node, nil
}

// locked runs fn on the running node with both contexts locked.
func (node *Node) locked(op string, fn func(n *C.struct_ovl_node) C.int) error {
	unlock := lockContexts(node.ctx, node.store.ctx)
	defer unlock()
	return node.ctx.callLocked(op, func(*C.struct_ovl_ctx) C.int {
		if node.c == nil {
			return -C.int(syscall.EBADF)
		}
		return fn(node.c)
	})
}

// FD is one descriptor (POLLIN) for the node's store watch, timers and
// link events, for callers with a poll loop of their own; Run uses it.
func (node *Node) FD() int {
	return node.fd
}

// Dispatch handles whatever is ready without blocking.
func (node *Node) Dispatch() error {
	return node.locked("ovl_node_dispatch", func(n *C.struct_ovl_node) C.int { return C.ovl_node_dispatch(n) })
}

// NextTimeout is the time until the node's next timer, -1 when none; only
// for callers that do not poll FD.
func (node *Node) NextTimeout() time.Duration {
	var ms C.int = -1
	node.locked("ovl_node_next_timeout_ms", func(n *C.struct_ovl_node) C.int {
		ms = C.ovl_node_next_timeout_ms(n)
		return 0
	})
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}

// Run is the agent's loop: it waits for the node's descriptor and
// dispatches, until ctx is done (it returns ctx.Err()) or the node is
// stopped (nil).  Call it in a goroutine of its own:
//
//	go node.Run(ctx)
func (node *Node) Run(ctx context.Context) error {
	return node.guard.block(ctx, "ovl_node_dispatch", func(w *waker) error {
		for {
			readable, err := waitReadable("poll", node.fd, w)
			if err != nil {
				return err
			}
			if !readable {
				return ctx.Err()
			}
			if err := node.Dispatch(); err != nil {
				return err
			}
		}
	})
}

func fixedText(chars []C.char) string {
	return C.GoString(&chars[0])
}

func unixTime(seconds C.int64_t) time.Time {
	if seconds == 0 {
		return time.Time{}
	}
	return time.Unix(int64(seconds), 0)
}

// Status is a snapshot of the node.
func (node *Node) Status() (NodeStatus, error) {
	var s C.struct_ovl_node_status
	s.size = C.size_t(unsafe.Sizeof(s))
	err := node.locked("ovl_node_status", func(n *C.struct_ovl_node) C.int { return C.ovl_node_status(n, &s) })
	if err != nil {
		return NodeStatus{}, err
	}
	status := NodeStatus{
		Ready:           s.ready != 0,
		LeaseLost:       s.lease_lost != 0,
		Subnet:          fixedText(s.subnet[:]),
		IPv6Subnet:      fixedText(s.ipv6_subnet[:]),
		Backend:         fixedText(s.backend[:]),
		Device:          fixedText(s.device[:]),
		MAC:             fixedText(s.mac[:]),
		PublicIP:        fixedText(s.public_ip[:]),
		PublicIPv6:      fixedText(s.public_ipv6[:]),
		Iface:           fixedText(s.iface[:]),
		MTU:             int(s.mtu),
		Peers:           int(s.peers),
		Skipped:         int(s.skipped),
		LeaseExpiration: unixTime(s.lease_expiration),
		LastSync:        unixTime(s.last_sync),
	}
	if s.last_error != 0 {
		status.LastError = newError("ovl_node_dispatch", s.last_error, fixedText(s.last_error_text[:]))
	}
	return status, nil
}

// Stop ends the node after a Run in another goroutine has returned.
// teardown removes the device, its peers and subnet.env and releases the
// lease; without it the data path stays, so that a restarted agent does
// not cut traffic.  The node is freed even when teardown fails.
func (node *Node) Stop(teardown bool) error {
	node.guard.shut()
	unlock := lockContexts(node.ctx, node.store.ctx)
	defer unlock()
	if node.c == nil {
		return nil
	}
	var flags C.uint
	if teardown {
		flags = C.OVL_NODE_TEARDOWN
	}
	c := node.c
	node.c = nil
	node.store.users--
	node.ctx.release()
	node.config.use(-1)
	runtime.SetFinalizer(node, nil)
	return node.ctx.callLocked("ovl_node_stop", func(*C.struct_ovl_ctx) C.int { return C.ovl_node_stop(c, flags) })
}

// Close is Stop(false): the data path and the lease stay.
func (node *Node) Close() error {
	return node.Stop(false)
}
