// config.go - Config: flannel's net-conf.json parsed and checked by libovl,
// with every derived value (subnet length, VNI, port, ...) filled in.
package ovl

/*
#include <stdlib.h>
#include <ovl.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// Config is a network configuration.  It needs no context once made; a
// Node started with it keeps using it, so Close fails (EBUSY) until the
// node has stopped.
type Config struct {
	mu    sync.Mutex
	c     *C.struct_ovl_config
	users int // nodes started with it and not stopped
}

func newConfig(c *C.struct_ovl_config) *Config {
	config := &Config{c: c}
	runtime.SetFinalizer(config, (*Config).Close)
	return config
}

// ParseConfig parses net-conf.json text; the error names the field.
func (ctx *Context) ParseConfig(json string) (*Config, error) {
	text := C.CString(json)
	defer C.free(unsafe.Pointer(text))
	var c *C.struct_ovl_config
	err := ctx.call("ovl_config_parse", func(x *C.struct_ovl_ctx) C.int {
		return C.ovl_config_parse(x, text, &c)
	})
	if err != nil {
		return nil, err
	}
	return newConfig(c), nil
}

// LoadConfig reads and parses a net-conf.json file.
func (ctx *Context) LoadConfig(path string) (*Config, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var c *C.struct_ovl_config
	err := ctx.call("ovl_config_load", func(x *C.struct_ovl_ctx) C.int {
		return C.ovl_config_load(x, cpath, &c)
	})
	if err != nil {
		return nil, err
	}
	return newConfig(c), nil
}

// Close frees the configuration (EBUSY while a node uses it).
func (config *Config) Close() error {
	config.mu.Lock()
	defer config.mu.Unlock()
	if config.users > 0 {
		return busy("ovl_config_free", "a node started with this config is still running")
	}
	if config.c != nil {
		C.ovl_config_free(config.c)
		config.c = nil
	}
	runtime.SetFinalizer(config, nil)
	return nil
}

// use marks the config as used by a node (false when closed).
func (config *Config) use(delta int) bool {
	config.mu.Lock()
	defer config.mu.Unlock()
	if config.c == nil && delta > 0 {
		return false
	}
	config.users += delta
	return true
}

// read runs fn on the C config under the lock (zero values when closed).
func (config *Config) read(fn func(c *C.struct_ovl_config)) {
	config.mu.Lock()
	defer config.mu.Unlock()
	if config.c != nil {
		fn(config.c)
	}
}

// prefixText formats a prefix, or an address (without its length).
func prefixText(p *C.struct_ovl_prefix, address bool) string {
	if p == nil {
		return ""
	}
	var buf [C.OVL_PREFIX_STRLEN]C.char
	var n C.int
	if address {
		n = C.ovl_addr_format(p, &buf[0], C.size_t(len(buf)))
	} else {
		n = C.ovl_prefix_format(p, &buf[0], C.size_t(len(buf)))
	}
	if n < 0 {
		return ""
	}
	return C.GoString(&buf[0])
}

// JSON is the effective configuration as stable JSON (see ovlctl(8)).
func (config *Config) JSON() (string, error) {
	var text *C.char
	closed := true
	config.read(func(c *C.struct_ovl_config) {
		closed = false
		text = C.ovl_config_to_json(c)
	})
	if closed {
		return "", errorOf("ovl_config_to_json", syscall.EBADF)
	}
	if text == nil {
		return "", errorOf("ovl_config_to_json", syscall.ENOMEM)
	}
	return takeString(text), nil
}

// FamilyEnabled says whether the configuration has a network of family.
func (config *Config) FamilyEnabled(family Family) (enabled bool) {
	config.read(func(c *C.struct_ovl_config) {
		enabled = C.ovl_config_family_enabled(c, C.int(family)) != 0
	})
	return
}

// Network is the cluster network of family, "" when disabled.
func (config *Config) Network(family Family) (network string) {
	config.read(func(c *C.struct_ovl_config) {
		network = prefixText(C.ovl_config_network(c, C.int(family)), false)
	})
	return
}

// SubnetLen is the length of each node's subnet of family.
func (config *Config) SubnetLen(family Family) (length int) {
	config.read(func(c *C.struct_ovl_config) {
		length = int(C.ovl_config_subnet_len(c, C.int(family)))
	})
	return
}

// SubnetMin is the address of the first subnet handed out, "" when disabled.
func (config *Config) SubnetMin(family Family) (subnet string) {
	config.read(func(c *C.struct_ovl_config) {
		subnet = prefixText(C.ovl_config_subnet_min(c, C.int(family)), true)
	})
	return
}

// SubnetMax is the address of the last subnet handed out, "" when disabled.
func (config *Config) SubnetMax(family Family) (subnet string) {
	config.read(func(c *C.struct_ovl_config) {
		subnet = prefixText(C.ovl_config_subnet_max(c, C.int(family)), true)
	})
	return
}

// BackendType is "vxlan", "host-gw" or "udp".
func (config *Config) BackendType() (backend string) {
	config.read(func(c *C.struct_ovl_config) { backend = goString(C.ovl_config_backend_type(c)) })
	return
}

// VNI is the VXLAN network identifier (default 1).
func (config *Config) VNI() (vni uint32) {
	config.read(func(c *C.struct_ovl_config) { vni = uint32(C.ovl_config_vni(c)) })
	return
}

// Port is the backend's UDP port with its default applied.
func (config *Config) Port() (port int) {
	config.read(func(c *C.struct_ovl_config) { port = int(C.ovl_config_port(c)) })
	return
}

// MTU is the configured MTU; 0 derives it from the underlay.
func (config *Config) MTU() (mtu int) {
	config.read(func(c *C.struct_ovl_config) { mtu = int(C.ovl_config_mtu(c)) })
	return
}

// GBP is VXLAN's group-based policy flag.
func (config *Config) GBP() (on bool) {
	config.read(func(c *C.struct_ovl_config) { on = C.ovl_config_gbp(c) != 0 })
	return
}

// Learning is VXLAN's source-address learning flag.
func (config *Config) Learning() (on bool) {
	config.read(func(c *C.struct_ovl_config) { on = C.ovl_config_learning(c) != 0 })
	return
}

// DirectRouting routes peers on the same subnet directly (vxlan).
func (config *Config) DirectRouting() (on bool) {
	config.read(func(c *C.struct_ovl_config) { on = C.ovl_config_direct_routing(c) != 0 })
	return
}

// EnableNftables is flannel's EnableNFTables.
func (config *Config) EnableNftables() (on bool) {
	config.read(func(c *C.struct_ovl_config) { on = C.ovl_config_enable_nftables(c) != 0 })
	return
}
