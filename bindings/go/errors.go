// errors.go - libovl's failures as Go errors: the call, the errno and the
// library's own reason (ovl_ctx_error), unwrapping to the syscall.Errno.
package ovl

/*
#include <ovl.h>
*/
import "C"

import "syscall"

// Error is a failed libovl call.  errors.Is(err, syscall.ENOENT) (or
// fs.ErrNotExist, through syscall.Errno's own Is) matches its errno.
type Error struct {
	Op      string        // the C function, e.g. "ovl_lease"
	Errno   syscall.Errno // positive
	Message string        // ovl_ctx_error's text, else strerror's
}

func (e *Error) Error() string {
	return e.Op + ": " + e.Message
}

// Unwrap gives the errno, which errors.Is and errors.As then match.
func (e *Error) Unwrap() error {
	return e.Errno
}

// newError builds the error of a call that returned err (negative), with
// the message the context holds (read before any other call on it).
func newError(op string, err C.int, message string) *Error {
	if err > 0 {
		err = -err
	}
	if message == "" {
		message = C.GoString(C.ovl_strerror(err))
	}
	return &Error{Op: op, Errno: syscall.Errno(-err), Message: message}
}

// errorOf is newError without a context: strerror's text.
func errorOf(op string, errno syscall.Errno) *Error {
	return newError(op, C.int(errno), "")
}

// busy is the error of closing a handle that another one still uses.
func busy(op, message string) *Error {
	return &Error{Op: op, Errno: syscall.EBUSY, Message: message}
}
