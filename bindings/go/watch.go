// watch.go - Watch: the store's lease changes as events, a descriptor to
// poll, and Wait, which blocks a goroutine until one may be pending.
package ovl

/*
#include <errno.h>
#include <ovl.h>
*/
import "C"

import (
	"context"
	"runtime"
)

// WatchEvent says what happened to a lease.
type WatchEvent int

// The watch events.
const (
	LeaseAdded   = WatchEvent(C.OVL_WATCH_ADDED)   // new or changed
	LeaseRemoved = WatchEvent(C.OVL_WATCH_REMOVED) // released, expired or deleted
)

func (e WatchEvent) String() string {
	switch e {
	case LeaseAdded:
		return "added"
	case LeaseRemoved:
		return "removed"
	}
	return "unknown"
}

// Event is one change of the store's leases; its Lease is the caller's.
type Event struct {
	Kind  WatchEvent
	Lease *Lease
}

// Watch follows a store's leases.
type Watch struct {
	store *Store
	c     *C.struct_ovl_watch // guarded by store.ctx.mu
	fd    int
	guard loopGuard
}

// Watch starts following the store's leases: the first events list every
// lease the store holds.
func (store *Store) Watch() (*Watch, error) {
	var c *C.struct_ovl_watch
	err := store.call("ovl_watch_open", func(s *C.struct_ovl_store) C.int {
		err := C.ovl_watch_open(s, &c)
		if err == 0 {
			store.users++
			store.ctx.adopt()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	watch := &Watch{store: store, c: c, fd: int(C.ovl_watch_fd(c))}
	runtime.SetFinalizer(watch, (*Watch).Close)
	return watch, nil
}

// FD is a descriptor that turns readable (POLLIN) when Next may have an
// event, for callers with a poll loop of their own.
func (watch *Watch) FD() int {
	return watch.fd
}

// Next returns the next event; ok is false when none is pending.
func (watch *Watch) Next() (event Event, ok bool, err error) {
	var kind C.int
	var c *C.struct_ovl_lease
	err = watch.store.ctx.call("ovl_watch_next", func(*C.struct_ovl_ctx) C.int {
		if watch.c == nil {
			return -C.EBADF
		}
		r := C.ovl_watch_next(watch.c, &kind, &c)
		if r == -C.EAGAIN {
			return 0
		}
		return r
	})
	if err != nil || c == nil {
		return Event{}, false, err
	}
	return Event{Kind: WatchEvent(kind), Lease: newLease(c)}, true, nil
}

// Wait blocks until an event may be pending (then call Next until it says
// none), ctx is done (ctx.Err()) or the watch is closed (nil).
func (watch *Watch) Wait(ctx context.Context) error {
	return watch.guard.block(ctx, "ovl_watch_fd", func(w *waker) error {
		if _, err := waitReadable("poll", watch.fd, w); err != nil {
			return err
		}
		return ctx.Err()
	})
}

// Close ends the watch (a Wait in another goroutine returns first).
func (watch *Watch) Close() error {
	watch.guard.shut()
	ctx := watch.store.ctx
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	if watch.c != nil {
		C.ovl_watch_close(watch.c)
		watch.c = nil
		watch.store.users--
		ctx.release()
	}
	runtime.SetFinalizer(watch, nil)
	return nil
}
