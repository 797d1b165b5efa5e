// context.go - Context: one ovl_ctx, the mutex that serialises every call
// made through it, its network namespace and its log callback.
package ovl

/*
#include <stdint.h>
#include <stdlib.h>
#include <ovl.h>

extern void ovlGoLog(uintptr_t handle, int level, char *message);

static void log_to_go(void *userdata, int level, const char *message)
{
	ovlGoLog((uintptr_t)userdata, level, (char *)message);
}

static void set_log(struct ovl_ctx *ctx, int max_level, uintptr_t handle)
{
	ovl_ctx_set_log(ctx, max_level, handle ? log_to_go : NULL, (void *)handle);
}
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// LogLevel is a syslog(3) priority, as libovl logs with them.
type LogLevel int

// The levels libovl logs at.
const (
	LogErr     = LogLevel(C.OVL_LOG_ERR)
	LogWarning = LogLevel(C.OVL_LOG_WARNING)
	LogNotice  = LogLevel(C.OVL_LOG_NOTICE)
	LogInfo    = LogLevel(C.OVL_LOG_INFO)
	LogDebug   = LogLevel(C.OVL_LOG_DEBUG)
)

// Context is a libovl context: the reason for the last failure, the network
// namespace kernel operations happen in, the log callback.  The handles made
// from it (stores, watches, links, nodes) use it; its calls are serialised,
// so it may be shared by goroutines.
type Context struct {
	mu   sync.Mutex
	c    *C.struct_ovl_ctx
	id   uint64 // lock order when a call needs two contexts
	open int    // handles made from it and not closed yet
	log  cgo.Handle
}

var contextIDs atomic.Uint64

// NewContext makes a context whose kernel operations happen in the
// caller's network namespace.
func NewContext() (*Context, error) {
	var c *C.struct_ovl_ctx
	if err := C.ovl_ctx_new(&c); err < 0 {
		return nil, newError("ovl_ctx_new", err, "")
	}
	ctx := &Context{c: c, id: contextIDs.Add(1)}
	runtime.SetFinalizer(ctx, (*Context).Close)
	return ctx, nil
}

// NewContextInNetns makes a context whose kernel operations happen in the
// named network namespace (/run/netns/NAME, as `ip netns add` makes).
func NewContextInNetns(name string) (*Context, error) {
	ctx, err := NewContext()
	if err != nil {
		return nil, err
	}
	if err := ctx.SetNetnsName(name); err != nil {
		ctx.Close()
		return nil, err
	}
	return ctx, nil
}

// call runs fn under the context's lock and turns a negative result into
// an *Error with the context's message.
func (ctx *Context) call(op string, fn func(c *C.struct_ovl_ctx) C.int) error {
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	return ctx.callLocked(op, fn)
}

func (ctx *Context) callLocked(op string, fn func(c *C.struct_ovl_ctx) C.int) error {
	if ctx.c == nil {
		return errorOf(op, syscall.EBADF)
	}
	if err := fn(ctx.c); err < 0 {
		return newError(op, err, C.GoString(C.ovl_ctx_error(ctx.c)))
	}
	return nil
}

// lockContexts locks each distinct context once, in a fixed order, and
// returns the unlock.
func lockContexts(contexts ...*Context) func() {
	distinct := make([]*Context, 0, len(contexts))
	for _, ctx := range contexts {
		seen := false
		for _, d := range distinct {
			seen = seen || d == ctx
		}
		if !seen {
			distinct = append(distinct, ctx)
		}
	}
	sort.Slice(distinct, func(i, j int) bool { return distinct[i].id < distinct[j].id })
	for _, ctx := range distinct {
		ctx.mu.Lock()
	}
	return func() {
		for i := len(distinct) - 1; i >= 0; i-- {
			distinct[i].mu.Unlock()
		}
	}
}

// adopt counts a new handle made from the context (under its lock).
func (ctx *Context) adopt() { ctx.open++ }

// release forgets a closed handle (under its lock).
func (ctx *Context) release() { ctx.open-- }

// Close frees the context.  It fails with EBUSY while handles made from it
// are open: close them first.
func (ctx *Context) Close() error {
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	if ctx.c == nil {
		return nil
	}
	if ctx.open > 0 {
		return busy("ovl_ctx_free", "handles made from this context are still open")
	}
	C.ovl_ctx_free(ctx.c)
	ctx.c = nil
	if ctx.log != 0 {
		ctx.log.Delete()
		ctx.log = 0
	}
	runtime.SetFinalizer(ctx, nil)
	return nil
}

// Error is the reason for the last failure on the context, "" when none.
// The *Error a call returns already carries it.
func (ctx *Context) Error() string {
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	if ctx.c == nil {
		return ""
	}
	return C.GoString(C.ovl_ctx_error(ctx.c))
}

// SetNetns makes every later kernel operation happen in the network
// namespace of fd (duplicated by libovl); -1 returns to the namespace the
// context was made in.
func (ctx *Context) SetNetns(fd int) error {
	return ctx.call("ovl_ctx_set_netns", func(c *C.struct_ovl_ctx) C.int {
		return C.ovl_ctx_set_netns(c, C.int(fd))
	})
}

// SetNetnsName is SetNetns for a named namespace (/run/netns/NAME).
func (ctx *Context) SetNetnsName(name string) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return ctx.call("ovl_ctx_set_netns_name", func(c *C.struct_ovl_ctx) C.int {
		return C.ovl_ctx_set_netns_name(c, cname)
	})
}

// SetLog sends libovl's messages at level <= maxLevel to fn; nil silences
// the library.  fn runs inside the call that logs, with the context locked:
// it must not call back into this context or its handles.
func (ctx *Context) SetLog(maxLevel LogLevel, fn func(level LogLevel, message string)) {
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	if ctx.c == nil {
		return
	}
	old := ctx.log
	ctx.log = 0
	if fn != nil {
		ctx.log = cgo.NewHandle(fn)
	}
	C.set_log(ctx.c, C.int(maxLevel), C.uintptr_t(ctx.log))
	if old != 0 {
		old.Delete()
	}
}
