// udp.go - the userspace data path of a udp link: its descriptor and
// Dispatch for a caller's loop, Run for a goroutine of its own, Stats.
package ovl

/*
#include <ovl.h>
*/
import "C"

import (
	"context"
	"syscall"
)

// FD is one descriptor (POLLIN) for everything a udp link waits on;
// EOPNOTSUPP for vxlan and host-gw, whose data path is the kernel's.
func (link *Link) FD() (int, error) {
	var fd C.int
	err := link.call("ovl_link_fd", func(l *C.struct_ovl_link) C.int {
		fd = C.ovl_link_fd(l)
		return fd
	})
	return int(fd), err
}

// Dispatch forwards what is ready without blocking (a bounded amount) and
// returns the number of packets moved.
func (link *Link) Dispatch() (int, error) {
	var moved C.int
	err := link.call("ovl_link_dispatch", func(l *C.struct_ovl_link) C.int {
		moved = C.ovl_link_dispatch(l)
		return moved
	})
	return int(moved), err
}

// Run forwards packets on the calling goroutine (which holds its OS thread
// meanwhile) until ctx is done (ctx.Err()) or the link is closed (nil).
// The link's context is not locked meanwhile: its other calls, peer
// changes and Stats included, go on.
func (link *Link) Run(ctx context.Context) error {
	return link.guard.block(ctx, "ovl_udp_run", func(w *waker) error {
		link.ctx.mu.Lock()
		c := link.c
		link.ctx.mu.Unlock()
		if c == nil {
			return errorOf("ovl_udp_run", syscall.EBADF)
		}
		// Close waits for this call to return before it frees c.
		if r := C.ovl_udp_run(c, C.int(w.read)); r < 0 {
			return newError("ovl_udp_run", r, "")
		}
		return ctx.Err()
	})
}

// LinkStats are the counters of a udp link's data path: "out" is towards
// peers, "in" from peers, counted in inner IP packets.
type LinkStats struct {
	PacketsOut, BytesOut uint64
	PacketsIn, BytesIn   uint64
	DropUnknownSource    uint64 // UDP from an address that is no peer
	DropNotOurs          uint64 // from a peer, not for our subnet
	DropMalformed        uint64 // not a whole IPv4 packet
	DropNoRoute          uint64 // no peer owns it: ICMP net unreachable
	DropTTL              uint64 // TTL expired: ICMP time exceeded
	DropIO               uint64 // a send or TUN write failed
}

// Stats reads the counters (also while Run forwards).
func (link *Link) Stats() (LinkStats, error) {
	var s C.struct_ovl_link_stats
	s.size = C.size_t(C.sizeof_struct_ovl_link_stats)
	err := link.call("ovl_link_stats", func(l *C.struct_ovl_link) C.int { return C.ovl_link_stats(l, &s) })
	return LinkStats{
		PacketsOut: uint64(s.packets_out), BytesOut: uint64(s.bytes_out),
		PacketsIn: uint64(s.packets_in), BytesIn: uint64(s.bytes_in),
		DropUnknownSource: uint64(s.drop_unknown_source), DropNotOurs: uint64(s.drop_not_ours),
		DropMalformed: uint64(s.drop_malformed), DropNoRoute: uint64(s.drop_no_route),
		DropTTL: uint64(s.drop_ttl), DropIO: uint64(s.drop_io),
	}, err
}
