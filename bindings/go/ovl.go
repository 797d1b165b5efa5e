// Package ovl is the Go binding of libovl, flannel's overlay as a C library:
// network configurations, subnet leases in a file or etcd store, store
// watches, the data-path links (vxlan, host-gw, udp) with their peers, and
// the embedded agent (Node) whose loop runs in a goroutine until a
// context.Context is cancelled.
//
// Every failing call returns an *Error carrying the errno and libovl's own
// message (ovl_ctx_error), so errors.Is(err, syscall.EINVAL) works.
//
// Handles are closed explicitly with Close (Stop for a Node); a finalizer
// frees a forgotten handle, but only as a safety net.  A Context serialises
// the calls made through it and the handles made from it, so one Context
// may be shared by goroutines; the calls of different Contexts run in
// parallel.
//
// The package links libovl through pkg-config (`pkg-config --cflags --libs
// libovl`); see the README's "Using libovl from Go".
package ovl

/*
#cgo pkg-config: libovl
#include <stdlib.h>
#include <sys/socket.h>
#include <ovl.h>
*/
import "C"

import "unsafe"

// Address families as libovl takes them (AF_INET, AF_INET6).
const (
	IPv4 = Family(C.AF_INET)
	IPv6 = Family(C.AF_INET6)
)

// Family selects IPv4 or IPv6 where libovl keeps both.
type Family int

// Version is the version of the libovl actually loaded, e.g. "0.1.0".
func Version() string {
	return C.GoString(C.ovl_version())
}

// HeaderVersion is the version of the ovl.h this package was built with.
const HeaderVersion = C.OVL_VERSION_STRING

// cString is C.CString for an optional value: "" is NULL.
func cString(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// cStrings frees the C strings of one call together.
type cStrings []*C.char

func (list *cStrings) add(s string) *C.char {
	c := cString(s)
	if c != nil {
		*list = append(*list, c)
	}
	return c
}

func (list cStrings) free() {
	for _, c := range list {
		C.free(unsafe.Pointer(c))
	}
}

// goString is C.GoString with NULL as "".
func goString(c *C.char) string {
	if c == nil {
		return ""
	}
	return C.GoString(c)
}

// takeString copies a string the library allocated and frees it.
func takeString(c *C.char) string {
	defer C.ovl_free(unsafe.Pointer(c))
	return C.GoString(c)
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
