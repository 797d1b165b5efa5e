// store.go - Store: the lease store (file:PATH or etcd URIs), the network
// config kept in it, acquiring, renewing, releasing and listing leases.
package ovl

/*
#include <stdlib.h>
#include <ovl.h>

// Takes entry i out of ovl_leases' array, so that ovl_leases_free leaves
// that lease to its new owner.
static struct ovl_lease *take_lease(struct ovl_lease **leases, size_t i)
{
	struct ovl_lease *lease = leases[i];

	leases[i] = NULL;
	return lease;
}
*/
import "C"

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// DefaultStoreURI is the store OpenStore("") opens.
const DefaultStoreURI = C.OVL_STORE_DEFAULT_URI

// Store is an open lease store.  Its calls run under its context's lock.
type Store struct {
	ctx   *Context
	c     *C.struct_ovl_store // guarded by ctx.mu
	users int                 // open watches and running nodes, under ctx.mu
}

// OpenStore opens "file:PATH[?timeout=SECONDS]" or an etcd URI (see
// ovl_store_open(3)); "" is DefaultStoreURI.
func (ctx *Context) OpenStore(uri string) (*Store, error) {
	var list cStrings
	defer list.free()
	curi := list.add(uri)
	var c *C.struct_ovl_store
	err := ctx.call("ovl_store_open", func(x *C.struct_ovl_ctx) C.int {
		err := C.ovl_store_open(x, curi, &c)
		if err == 0 {
			ctx.adopt()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	store := &Store{ctx: ctx, c: c}
	runtime.SetFinalizer(store, (*Store).Close)
	return store, nil
}

// call runs fn on the open store under its context's lock.
func (store *Store) call(op string, fn func(s *C.struct_ovl_store) C.int) error {
	return store.ctx.call(op, func(*C.struct_ovl_ctx) C.int {
		if store.c == nil {
			return -C.int(syscall.EBADF)
		}
		return fn(store.c)
	})
}

// Close closes the store; EBUSY while a watch or a node uses it.
func (store *Store) Close() error {
	store.ctx.mu.Lock()
	defer store.ctx.mu.Unlock()
	if store.c == nil {
		return nil
	}
	if store.users > 0 {
		return busy("ovl_store_close", "a watch or a node still uses this store")
	}
	C.ovl_store_close(store.c)
	store.c = nil
	store.ctx.release()
	runtime.SetFinalizer(store, nil)
	return nil
}

// Config is the network configuration kept in the store; ENOENT when it
// holds none.
func (store *Store) Config() (*Config, error) {
	var c *C.struct_ovl_config
	err := store.call("ovl_store_config_get", func(s *C.struct_ovl_store) C.int {
		return C.ovl_store_config_get(s, &c)
	})
	if err != nil {
		return nil, err
	}
	return newConfig(c), nil
}

// PutConfig validates json as a network configuration and stores it.
func (store *Store) PutConfig(json string) error {
	text := C.CString(json)
	defer C.free(unsafe.Pointer(text))
	return store.call("ovl_store_config_put", func(s *C.struct_ovl_store) C.int {
		return C.ovl_store_config_put(s, text)
	})
}

// LeaseRequest says who asks for a lease (see ovl_lease(3)); "" leaves a
// field out.
type LeaseRequest struct {
	NodeName            string // identity; "": PublicIP is
	PublicIP            string // IPv4 underlay (when IPv4 is enabled)
	PublicIPv6          string // IPv6 underlay (when IPv6 is enabled)
	BackendType         string // "": the config's
	BackendData         string // JSON object text
	BackendV6Data       string
	PreferredSubnet     string // e.g. the previous FLANNEL_SUBNET
	PreferredIPv6Subnet string
	TTL                 time.Duration // whole seconds; 0: 24 hours
	Reserve             bool          // a reservation: never expires
}

// Lease acquires a lease, or reuses and renews the one this node holds.
func (store *Store) Lease(config *Config, request LeaseRequest) (*Lease, error) {
	var list cStrings
	defer list.free()
	r := C.struct_ovl_lease_request{
		node_name:             list.add(request.NodeName),
		public_ip:             list.add(request.PublicIP),
		public_ipv6:           list.add(request.PublicIPv6),
		backend_type:          list.add(request.BackendType),
		backend_data:          list.add(request.BackendData),
		backend_v6_data:       list.add(request.BackendV6Data),
		preferred_subnet:      list.add(request.PreferredSubnet),
		preferred_ipv6_subnet: list.add(request.PreferredIPv6Subnet),
		ttl_seconds:           C.uint(request.TTL / time.Second),
	}
	r.size = C.size_t(unsafe.Sizeof(r))
	if request.Reserve {
		r.flags = C.OVL_LEASE_RESERVE
	}
	var c *C.struct_ovl_lease
	var err error
	config.read(func(cc *C.struct_ovl_config) {
		err = store.call("ovl_lease", func(s *C.struct_ovl_store) C.int {
			return C.ovl_lease(s, cc, &r, &c)
		})
	})
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errorOf("ovl_lease", syscall.EBADF) // the config was closed
	}
	return newLease(c), nil
}

// Renew renews lease for ttl (0: its own TTL) by compare-and-swap; ESTALE
// when it is no longer ours.
func (store *Store) Renew(lease *Lease, ttl time.Duration) error {
	lease.mu.Lock()
	defer lease.mu.Unlock()
	if lease.c == nil {
		return errorOf("ovl_lease_renew", syscall.EBADF)
	}
	return store.call("ovl_lease_renew", func(s *C.struct_ovl_store) C.int {
		return C.ovl_lease_renew(s, lease.c, C.uint(ttl/time.Second))
	})
}

// Release removes the lease when it is still ours; gone already is success.
func (store *Store) Release(lease *Lease) error {
	lease.mu.Lock()
	defer lease.mu.Unlock()
	if lease.c == nil {
		return errorOf("ovl_lease_release", syscall.EBADF)
	}
	return store.call("ovl_lease_release", func(s *C.struct_ovl_store) C.int {
		return C.ovl_lease_release(s, lease.c)
	})
}

// Leases lists every unexpired lease.
func (store *Store) Leases() ([]*Lease, error) {
	var array **C.struct_ovl_lease
	var count C.size_t
	err := store.call("ovl_leases", func(s *C.struct_ovl_store) C.int {
		return C.ovl_leases(s, &array, &count)
	})
	if err != nil {
		return nil, err
	}
	leases := make([]*Lease, 0, int(count))
	for i := C.size_t(0); i < count; i++ {
		leases = append(leases, newLease(C.take_lease(array, i)))
	}
	C.ovl_leases_free(array, count)
	return leases, nil
}
