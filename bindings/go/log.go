// log.go - the Go side of the log callback (a file of its own: cgo allows
// only declarations beside an //export).
package ovl

/*
#include <stdint.h>
*/
import "C"

import "runtime/cgo"

//export ovlGoLog
func ovlGoLog(handle C.uintptr_t, level C.int, message *C.char) {
	fn := cgo.Handle(handle).Value().(func(LogLevel, string))
	fn(LogLevel(level), C.GoString(message))
}
