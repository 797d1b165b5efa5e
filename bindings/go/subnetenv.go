// subnetenv.go - subnet.env (FLANNEL_NETWORK, FLANNEL_SUBNET, ...), the
// file the agent writes and CNI plugins read.
package ovl

/*
#include <stdlib.h>
#include <ovl.h>
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// DefaultSubnetEnvPath is where "" reads and writes subnet.env.
const DefaultSubnetEnvPath = C.OVL_SUBNET_ENV_DEFAULT_PATH

// SubnetEnv is subnet.env's content; "" and 0 fields are left out.
type SubnetEnv struct {
	Network     string // FLANNEL_NETWORK
	Subnet      string // FLANNEL_SUBNET, e.g. 10.244.3.1/24
	IPv6Network string // FLANNEL_IPV6_NETWORK
	IPv6Subnet  string // FLANNEL_IPV6_SUBNET
	MTU         int    // FLANNEL_MTU
	IPMasq      bool   // FLANNEL_IPMASQ
}

// setFixed copies value into a C char array; false when it does not fit.
func setFixed(chars []C.char, value string) bool {
	if len(value) >= len(chars) {
		return false
	}
	for i := 0; i < len(value); i++ {
		chars[i] = C.char(value[i])
	}
	chars[len(value)] = 0
	return true
}

// WriteSubnetEnv writes subnet.env at path ("": the default) atomically.
func (ctx *Context) WriteSubnetEnv(path string, env SubnetEnv) error {
	var e C.struct_ovl_subnet_env
	e.size = C.size_t(unsafe.Sizeof(e))
	fields := []struct {
		chars []C.char
		value string
		name  string
	}{
		{e.network[:], env.Network, "Network"},
		{e.subnet[:], env.Subnet, "Subnet"},
		{e.ipv6_network[:], env.IPv6Network, "IPv6Network"},
		{e.ipv6_subnet[:], env.IPv6Subnet, "IPv6Subnet"},
	}
	for _, f := range fields {
		if !setFixed(f.chars, f.value) {
			return &Error{Op: "ovl_subnet_env_write", Errno: syscall.EINVAL,
				Message: f.name + ": longer than subnet.env allows"}
		}
	}
	e.mtu = C.uint(env.MTU)
	e.ipmasq = cBool(env.IPMasq)
	var list cStrings
	defer list.free()
	cpath := list.add(path)
	return ctx.call("ovl_subnet_env_write", func(x *C.struct_ovl_ctx) C.int {
		return C.ovl_subnet_env_write(x, cpath, &e)
	})
}

// ReadSubnetEnv reads subnet.env at path ("": the default).
func (ctx *Context) ReadSubnetEnv(path string) (SubnetEnv, error) {
	var e C.struct_ovl_subnet_env
	e.size = C.size_t(unsafe.Sizeof(e))
	var list cStrings
	defer list.free()
	cpath := list.add(path)
	err := ctx.call("ovl_subnet_env_read", func(x *C.struct_ovl_ctx) C.int {
		return C.ovl_subnet_env_read(x, cpath, &e)
	})
	if err != nil {
		return SubnetEnv{}, err
	}
	return SubnetEnv{
		Network:     fixedText(e.network[:]),
		Subnet:      fixedText(e.subnet[:]),
		IPv6Network: fixedText(e.ipv6_network[:]),
		IPv6Subnet:  fixedText(e.ipv6_subnet[:]),
		MTU:         int(e.mtu),
		IPMasq:      e.ipmasq != 0,
	}, nil
}
