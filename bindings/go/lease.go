// lease.go - Lease: one subnet lease as the store holds it (plain memory:
// it needs no context), and its accessors.
package ovl

/*
#include <ovl.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
)

// Lease is a subnet lease.  Store.Renew updates it in place.
type Lease struct {
	mu sync.Mutex
	c  *C.struct_ovl_lease
}

func newLease(c *C.struct_ovl_lease) *Lease {
	lease := &Lease{c: c}
	runtime.SetFinalizer(lease, (*Lease).Close)
	return lease
}

// Close frees the lease (the store keeps it: see Store.Release).
func (lease *Lease) Close() error {
	lease.mu.Lock()
	defer lease.mu.Unlock()
	if lease.c != nil {
		C.ovl_lease_free(lease.c)
		lease.c = nil
	}
	runtime.SetFinalizer(lease, nil)
	return nil
}

// text reads a string field under the lock; "" when absent or closed.
func (lease *Lease) text(get func(c *C.struct_ovl_lease) *C.char) string {
	lease.mu.Lock()
	defer lease.mu.Unlock()
	if lease.c == nil {
		return ""
	}
	return goString(get(lease.c))
}

// Key is flannel's key of the lease, e.g. "10.244.3.0-24".
func (lease *Lease) Key() string {
	return lease.text(func(c *C.struct_ovl_lease) *C.char { return C.ovl_lease_key(c) })
}

// Subnet is the leased subnet of family, "" when none.
func (lease *Lease) Subnet(family Family) string {
	return lease.text(func(c *C.struct_ovl_lease) *C.char { return C.ovl_lease_subnet(c, C.int(family)) })
}

// PublicIP is the holder's underlay address of family, "" when none.
func (lease *Lease) PublicIP(family Family) string {
	return lease.text(func(c *C.struct_ovl_lease) *C.char { return C.ovl_lease_public_ip(c, C.int(family)) })
}

// NodeName is the holder's node name, "" when the lease has none.
func (lease *Lease) NodeName() string {
	return lease.text(func(c *C.struct_ovl_lease) *C.char { return C.ovl_lease_node_name(c) })
}

// BackendType is the holder's backend, e.g. "vxlan".
func (lease *Lease) BackendType() string {
	return lease.text(func(c *C.struct_ovl_lease) *C.char { return C.ovl_lease_backend_type(c) })
}

// BackendData is the backend's JSON object of family (VtepMAC for vxlan).
func (lease *Lease) BackendData(family Family) string {
	return lease.text(func(c *C.struct_ovl_lease) *C.char { return C.ovl_lease_backend_data(c, C.int(family)) })
}

// Expiration is when the lease expires; the zero time for a reservation.
func (lease *Lease) Expiration() time.Time {
	lease.mu.Lock()
	defer lease.mu.Unlock()
	if lease.c == nil {
		return time.Time{}
	}
	seconds := int64(C.ovl_lease_expiration(lease.c))
	if seconds == 0 {
		return time.Time{}
	}
	return time.Unix(seconds, 0)
}

// IsReservation says whether the lease never expires.
func (lease *Lease) IsReservation() bool {
	lease.mu.Lock()
	defer lease.mu.Unlock()
	return lease.c != nil && C.ovl_lease_is_reservation(lease.c) != 0
}

// IsLost says whether a renewal found the lease taken or gone.
func (lease *Lease) IsLost() bool {
	lease.mu.Lock()
	defer lease.mu.Unlock()
	return lease.c != nil && C.ovl_lease_is_lost(lease.c) != 0
}

func (lease *Lease) String() string {
	return "lease " + lease.Key() + " node=" + lease.NodeName() + " public_ip=" + lease.PublicIP(IPv4)
}
