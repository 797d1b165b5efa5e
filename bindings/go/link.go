// link.go - Link: a data-path link (vxlan device, host-gw routes, udp TUN),
// made by VxlanUp, HostgwUp, UDPUp or reopened by OpenLink, and its peers.
package ovl

/*
#include <stdlib.h>
#include <ovl.h>

static struct ovl_peer *peer_at(struct ovl_peer *peers, size_t i)
{
	return &peers[i];
}
*/
import "C"

import (
	"runtime"
	"syscall"
	"unsafe"
)

// Link is a backend's data path on one node.  Close frees the handle and
// keeps the kernel state (but for udp, whose TUN lives with the handle);
// Down removes it.
type Link struct {
	ctx   *Context
	c     *C.struct_ovl_link // guarded by ctx.mu
	guard loopGuard          // Run (udp)
}

// VxlanOptions are ovl_vxlan_up(3)'s options; zero values take defaults.
type VxlanOptions struct {
	Name          string // "": flannel.<VNI> / flannel-v6.<VNI>
	VNI           uint32 // 0: 1
	Port          int    // 0: 8472
	Local         string // underlay address (required)
	Dev           string // underlay device; "": the one holding Local
	Subnet        string // our lease subnet (required); its family picks v4/v6
	Network       string // the cluster network
	MAC           string // VTEP MAC to keep; "": a random one
	MTU           int    // 0: underlay MTU - 50 (- 70 on an IPv6 underlay)
	GBP           bool
	Learning      bool
	DirectRouting bool
	Replace       bool // recreate a device whose creation-only attributes differ
	TxChecksumOff bool // flannel's tx-checksum-ip-generic off workaround
}

// HostgwOptions are ovl_hostgw_up(3)'s options.
type HostgwOptions struct {
	Local   string // our public IP (required): an address of Dev
	Dev     string // underlay device; "": the one holding Local
	Subnet  string // our lease subnet (required)
	Network string // the cluster network
}

// UDPOptions are ovl_udp_up(3)'s options.
type UDPOptions struct {
	Name      string // TUN device; "": flannel0
	Port      int    // 0: 8285
	Local     string // underlay IPv4 address (required)
	Dev       string // underlay device; "": the one holding Local
	Subnet    string // our lease subnet (required, IPv4)
	Network   string // the cluster network (required)
	MTU       int    // 0: underlay MTU - 28
	Simple    bool   // one packet per system call, as flannel
	NoOffload bool   // batching without the TUN/UDP offloads
}

func (ctx *Context) newLink(op string, up func(x *C.struct_ovl_ctx, link **C.struct_ovl_link) C.int) (*Link, error) {
	var c *C.struct_ovl_link
	err := ctx.call(op, func(x *C.struct_ovl_ctx) C.int {
		err := up(x, &c)
		if err == 0 {
			ctx.adopt()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	link := &Link{ctx: ctx, c: c}
	runtime.SetFinalizer(link, (*Link).Close)
	return link, nil
}

// VxlanUp creates (or adopts) the VXLAN device.
func (ctx *Context) VxlanUp(options VxlanOptions) (*Link, error) {
	var list cStrings
	defer list.free()
	o := C.struct_ovl_vxlan_options{
		name:           list.add(options.Name),
		vni:            C.uint32_t(options.VNI),
		port:           C.uint(options.Port),
		local:          list.add(options.Local),
		dev:            list.add(options.Dev),
		subnet:         list.add(options.Subnet),
		network:        list.add(options.Network),
		mac:            list.add(options.MAC),
		mtu:            C.uint(options.MTU),
		gbp:            cBool(options.GBP),
		learning:       cBool(options.Learning),
		direct_routing: cBool(options.DirectRouting),
	}
	o.size = C.size_t(unsafe.Sizeof(o))
	if options.Replace {
		o.flags |= C.OVL_VXLAN_REPLACE
	}
	if options.TxChecksumOff {
		o.flags |= C.OVL_VXLAN_TX_CHECKSUM_OFF
	}
	return ctx.newLink("ovl_vxlan_up", func(x *C.struct_ovl_ctx, link **C.struct_ovl_link) C.int {
		return C.ovl_vxlan_up(x, &o, link)
	})
}

// HostgwUp sets up host-gw on the underlay device: a link named
// "host-gw:DEV" whose peers are routes via their public IPs.
func (ctx *Context) HostgwUp(options HostgwOptions) (*Link, error) {
	var list cStrings
	defer list.free()
	o := C.struct_ovl_hostgw_options{
		local:   list.add(options.Local),
		dev:     list.add(options.Dev),
		subnet:  list.add(options.Subnet),
		network: list.add(options.Network),
	}
	o.size = C.size_t(unsafe.Sizeof(o))
	return ctx.newLink("ovl_hostgw_up", func(x *C.struct_ovl_ctx, link **C.struct_ovl_link) C.int {
		return C.ovl_hostgw_up(x, &o, link)
	})
}

// UDPUp opens the TUN device and the UDP socket; nothing forwards until
// Run (or FD and Dispatch) moves the packets.
func (ctx *Context) UDPUp(options UDPOptions) (*Link, error) {
	var list cStrings
	defer list.free()
	o := C.struct_ovl_udp_options{
		name:    list.add(options.Name),
		port:    C.uint(options.Port),
		local:   list.add(options.Local),
		dev:     list.add(options.Dev),
		subnet:  list.add(options.Subnet),
		network: list.add(options.Network),
		mtu:     C.uint(options.MTU),
	}
	o.size = C.size_t(unsafe.Sizeof(o))
	if options.Simple {
		o.flags |= C.OVL_UDP_SIMPLE
	}
	if options.NoOffload {
		o.flags |= C.OVL_UDP_NO_OFFLOAD
	}
	return ctx.newLink("ovl_udp_up", func(x *C.struct_ovl_ctx, link **C.struct_ovl_link) C.int {
		return C.ovl_udp_up(x, &o, link)
	})
}

// OpenLink reopens an existing libovl device by name ("flannel.1",
// "host-gw:eth0"), e.g. one another process made.
func (ctx *Context) OpenLink(name string) (*Link, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return ctx.newLink("ovl_link_open", func(x *C.struct_ovl_ctx, link **C.struct_ovl_link) C.int {
		return C.ovl_link_open(x, cname, link)
	})
}

// call runs fn on the open link under its context's lock.
func (link *Link) call(op string, fn func(l *C.struct_ovl_link) C.int) error {
	return link.ctx.call(op, func(*C.struct_ovl_ctx) C.int {
		if link.c == nil {
			return -C.int(syscall.EBADF)
		}
		return fn(link.c)
	})
}

// read runs fn on the open link under the lock; false when closed.
func (link *Link) read(fn func(l *C.struct_ovl_link)) bool {
	link.ctx.mu.Lock()
	defer link.ctx.mu.Unlock()
	if link.c == nil {
		return false
	}
	fn(link.c)
	return true
}

// Name is the device's name ("flannel.1", "host-gw:eth0", "flannel0").
func (link *Link) Name() (name string) {
	link.read(func(l *C.struct_ovl_link) { name = goString(C.ovl_link_name(l)) })
	return
}

// MAC is the device's MAC ("" for host-gw and udp).
func (link *Link) MAC() (mac string) {
	link.read(func(l *C.struct_ovl_link) { mac = goString(C.ovl_link_mac(l)) })
	return
}

// MTU is the device's MTU.
func (link *Link) MTU() (mtu int) {
	link.read(func(l *C.struct_ovl_link) { mtu = int(C.ovl_link_mtu(l)) })
	return
}

// Ifindex is the device's interface index.
func (link *Link) Ifindex() (index int) {
	link.read(func(l *C.struct_ovl_link) { index = int(C.ovl_link_ifindex(l)) })
	return
}

// JSON is the link's parameters as stable JSON (see ovl_vxlan_up(3)).
func (link *Link) JSON() (string, error) {
	var text *C.char
	if !link.read(func(l *C.struct_ovl_link) { text = C.ovl_link_to_json(l) }) {
		return "", errorOf("ovl_link_to_json", syscall.EBADF)
	}
	if text == nil {
		return "", errorOf("ovl_link_to_json", syscall.ENOMEM)
	}
	return takeString(text), nil
}

// Down removes the device and everything libovl installed for it; the
// handle stays to be closed.
func (link *Link) Down() error {
	return link.call("ovl_link_down", func(l *C.struct_ovl_link) C.int { return C.ovl_link_down(l) })
}

// Close frees the handle (after Run, in another goroutine, has returned).
func (link *Link) Close() error {
	link.guard.shut()
	link.ctx.mu.Lock()
	defer link.ctx.mu.Unlock()
	if link.c != nil {
		C.ovl_link_free(link.c)
		link.c = nil
		link.ctx.release()
	}
	runtime.SetFinalizer(link, nil)
	return nil
}

// Peer is a remote node as the data path needs it.
type Peer struct {
	Subnet   string // the peer's lease, e.g. "10.244.7.0/24"
	PublicIP string // its underlay address
	MAC      string // its VTEP MAC (vxlan), else ""
}

// cPeers is a C array of peers and the strings it points to.
type cPeers struct {
	array   *C.struct_ovl_peer
	count   int
	strings cStrings
}

func newCPeers(peers []Peer) *cPeers {
	p := &cPeers{count: len(peers)}
	if len(peers) == 0 {
		return p
	}
	p.array = (*C.struct_ovl_peer)(C.calloc(C.size_t(len(peers)), C.size_t(unsafe.Sizeof(C.struct_ovl_peer{}))))
	for i, peer := range peers {
		c := C.peer_at(p.array, C.size_t(i))
		c.subnet = p.strings.add(peer.Subnet)
		c.public_ip = p.strings.add(peer.PublicIP)
		c.mac = p.strings.add(peer.MAC)
	}
	return p
}

func (p *cPeers) free() {
	p.strings.free()
	C.free(unsafe.Pointer(p.array))
}

// PeerAdd installs one peer.
func (link *Link) PeerAdd(peer Peer) error {
	p := newCPeers([]Peer{peer})
	defer p.free()
	return link.call("ovl_peer_add", func(l *C.struct_ovl_link) C.int { return C.ovl_peer_add(l, p.array) })
}

// PeerDel removes one peer.
func (link *Link) PeerDel(peer Peer) error {
	p := newCPeers([]Peer{peer})
	defer p.free()
	return link.call("ovl_peer_del", func(l *C.struct_ovl_link) C.int { return C.ovl_peer_del(l, p.array) })
}

// PeerSync makes the kernel hold exactly these peers on the link.
func (link *Link) PeerSync(peers []Peer) error {
	p := newCPeers(peers)
	defer p.free()
	return link.call("ovl_peer_sync", func(l *C.struct_ovl_link) C.int {
		return C.ovl_peer_sync(l, p.array, C.size_t(p.count))
	})
}

// Peers lists the peers libovl has installed on the link.
func (link *Link) Peers() ([]Peer, error) {
	var array *C.struct_ovl_peer
	var count C.size_t
	err := link.call("ovl_peer_list", func(l *C.struct_ovl_link) C.int { return C.ovl_peer_list(l, &array, &count) })
	if err != nil {
		return nil, err
	}
	defer C.ovl_peers_free(array, count)
	peers := make([]Peer, 0, int(count))
	for i := C.size_t(0); i < count; i++ {
		c := C.peer_at(array, i)
		peers = append(peers, Peer{Subnet: goString(c.subnet), PublicIP: goString(c.public_ip), MAC: goString(c.mac)})
	}
	return peers, nil
}
