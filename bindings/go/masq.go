// masq.go - flannel's masquerade and forward rules (--ip-masq) in
// nftables tables of libovl's own.
package ovl

/*
#include <stdlib.h>
#include <ovl.h>
*/
import "C"

// MasqOptions change the rules MasqApply installs.
type MasqOptions struct {
	NoFullyRandom bool // flannel's --ip-masq-fully-random-disable
	NoForward     bool // flannel's --iptables-forward-rules=false
}

func (o MasqOptions) flags() C.uint {
	var flags C.uint
	if o.NoFullyRandom {
		flags |= C.OVL_MASQ_NO_FULLY_RANDOM
	}
	if o.NoForward {
		flags |= C.OVL_MASQ_NO_FORWARD
	}
	return flags
}

func (ctx *Context) masq(op string, network, subnet string, options MasqOptions,
	fn func(x *C.struct_ovl_ctx, network, subnet *C.char, flags C.uint) C.int) error {
	var list cStrings
	defer list.free()
	cnetwork, csubnet := list.add(network), list.add(subnet)
	return ctx.call(op, func(x *C.struct_ovl_ctx) C.int { return fn(x, cnetwork, csubnet, options.flags()) })
}

// MasqApply makes the nftables table of the prefixes' family hold exactly
// flannel's rules for network and this node's subnet.
func (ctx *Context) MasqApply(network, subnet string, options MasqOptions) error {
	return ctx.masq("ovl_masq_apply", network, subnet, options,
		func(x *C.struct_ovl_ctx, n, s *C.char, f C.uint) C.int { return C.ovl_masq_apply(x, n, s, f) })
}

// MasqCheck is nil when the table is exactly what MasqApply installs,
// ENOENT (naming the difference) when it is missing or differs.
func (ctx *Context) MasqCheck(network, subnet string, options MasqOptions) error {
	return ctx.masq("ovl_masq_check", network, subnet, options,
		func(x *C.struct_ovl_ctx, n, s *C.char, f C.uint) C.int { return C.ovl_masq_check(x, n, s, f) })
}

// MasqRemove deletes the table of family (0: both); missing is success.
func (ctx *Context) MasqRemove(family Family) error {
	return ctx.call("ovl_masq_remove", func(x *C.struct_ovl_ctx) C.int { return C.ovl_masq_remove(x, C.int(family)) })
}
