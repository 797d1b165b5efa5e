// ovl_test.go - the binding without root: errors, configs, a file store's
// leases and watch, subnet.env, logging, close order and finalizers, one
// context shared by goroutines.
package ovl

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const network = "10.244.0.0/16"

func mustContext(t *testing.T) *Context {
	t.Helper()
	ctx, err := NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ctx.Close(); err != nil {
			t.Errorf("context close: %v", err)
		}
	})
	return ctx
}

func mustConfig(t *testing.T, ctx *Context, json string) *Config {
	t.Helper()
	config, err := ctx.ParseConfig(json)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { config.Close() })
	return config
}

func mustStore(t *testing.T, ctx *Context, path string) *Store {
	t.Helper()
	store, err := ctx.OpenStore("file:" + path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	return store
}

func TestVersion(t *testing.T) {
	if Version() != HeaderVersion {
		t.Errorf("loaded %q, header %q", Version(), HeaderVersion)
	}
}

func TestConfigError(t *testing.T) {
	ctx := mustContext(t)
	_, err := ctx.ParseConfig(`{"Network": "10.244.0.0/16", "SubnetLen": 31}`)
	if !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("want EINVAL, got %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Op != "ovl_config_parse" || !strings.Contains(e.Message, "SubnetLen") {
		t.Errorf("the error should name the call and the field: %#v", err)
	}
	if ctx.Error() != e.Message {
		t.Errorf("ctx.Error() %q, error %q", ctx.Error(), e.Message)
	}
	_, err = ctx.LoadConfig(filepath.Join(t.TempDir(), "absent.json"))
	if !errors.Is(err, syscall.ENOENT) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: want ENOENT (fs.ErrNotExist), got %v", err)
	}
}

func TestConfig(t *testing.T) {
	ctx := mustContext(t)
	config := mustConfig(t, ctx, `{"network": "10.244.0.0/16", "backend": {"type": "vxlan", "VNI": 7}}`)
	checks := []struct {
		name      string
		got, want interface{}
	}{
		{"subnet length", config.SubnetLen(IPv4), 24},
		{"network", config.Network(IPv4), network},
		{"subnet min", config.SubnetMin(IPv4), "10.244.1.0"},
		{"subnet max", config.SubnetMax(IPv4), "10.244.255.0"},
		{"IPv4 enabled", config.FamilyEnabled(IPv4), true},
		{"IPv6 disabled", config.FamilyEnabled(IPv6), false},
		{"no IPv6 network", config.Network(IPv6), ""},
		{"backend", config.BackendType(), "vxlan"},
		{"VNI", config.VNI(), uint32(7)},
		{"port", config.Port(), 8472},
		{"MTU", config.MTU(), 0},
		{"direct routing", config.DirectRouting(), false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	json, err := config.JSON()
	if err != nil || !strings.Contains(json, `"subnet_len"`) {
		t.Errorf("JSON: %q %v", json, err)
	}
	config.Close()
	if _, err := config.JSON(); !errors.Is(err, syscall.EBADF) {
		t.Errorf("JSON after Close: want EBADF, got %v", err)
	}
}

func TestLeases(t *testing.T) {
	ctx := mustContext(t)
	config := mustConfig(t, ctx, `{"Network": "10.244.0.0/16"}`)
	store := mustStore(t, ctx, filepath.Join(t.TempDir(), "leases.json"))
	if _, err := store.Config(); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("config of an empty store: want ENOENT, got %v", err)
	}
	a, err := store.Lease(config, LeaseRequest{NodeName: "a", PublicIP: "192.168.77.11", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Lease(config, LeaseRequest{NodeName: "b", PublicIP: "192.168.77.12", PreferredSubnet: "10.244.42.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Subnet(IPv4) == b.Subnet(IPv4) {
		t.Errorf("two nodes got %s", a.Subnet(IPv4))
	}
	if b.Subnet(IPv4) != "10.244.42.0/24" || b.Key() != "10.244.42.0-24" {
		t.Errorf("the preferred subnet was free: got %s (%s)", b.Subnet(IPv4), b.Key())
	}
	if a.NodeName() != "a" || a.PublicIP(IPv4) != "192.168.77.11" || a.BackendType() != "vxlan" {
		t.Errorf("accessors: %v", a)
	}
	if left := time.Until(a.Expiration()); left < 59*time.Minute || left > time.Hour+time.Minute {
		t.Errorf("TTL 1 h, expires in %v", left)
	}
	again, err := store.Lease(config, LeaseRequest{NodeName: "a", PublicIP: "192.168.77.11"})
	if err != nil || again.Subnet(IPv4) != a.Subnet(IPv4) {
		t.Errorf("acquiring again: %v %v", again, err)
	}
	again.Close()
	if err := store.Renew(a, 2*time.Hour); err != nil || time.Until(a.Expiration()) < time.Hour+59*time.Minute {
		t.Errorf("renew: %v, expires in %v", err, time.Until(a.Expiration()))
	}
	_, err = store.Lease(config, LeaseRequest{NodeName: "c", PublicIP: "not-an-ip"})
	if !errors.Is(err, syscall.EINVAL) {
		t.Errorf("bad public IP: want EINVAL, got %v", err)
	}
	reserved, err := store.Lease(config, LeaseRequest{PublicIP: "192.168.77.99", PreferredSubnet: "10.244.99.0/24", Reserve: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reserved.IsReservation() || !reserved.Expiration().IsZero() || reserved.Subnet(IPv4) != "10.244.99.0/24" {
		t.Errorf("reservation: %v", reserved)
	}
	leases, err := store.Leases()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, lease := range leases {
		names = append(names, lease.NodeName()+"@"+lease.PublicIP(IPv4))
		lease.Close()
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "@192.168.77.99 a@192.168.77.11 b@192.168.77.12" {
		t.Errorf("leases: %v", names)
	}
	for _, lease := range []*Lease{b, reserved} {
		if err := store.Release(lease); err != nil {
			t.Error(err)
		}
	}
	if err := store.Release(b); err != nil {
		t.Errorf("releasing twice is success: %v", err)
	}
	if leases, _ := store.Leases(); len(leases) != 1 {
		t.Errorf("after two releases %d leases", len(leases))
	}
	if err := store.PutConfig(`{"Network": "10.10.0.0/16", "SubnetLen": 26}`); err != nil {
		t.Fatal(err)
	}
	stored, err := store.Config()
	if err != nil || stored.Network(IPv4) != "10.10.0.0/16" || stored.SubnetLen(IPv4) != 26 {
		t.Errorf("stored config: %v", err)
	}
	if stored != nil {
		stored.Close()
	}
	if err := store.PutConfig(`{"Network": "bogus"}`); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("a bad config is not stored: %v", err)
	}
}

// next waits for the watch's next event, up to a second.
func next(t *testing.T, watch *Watch) Event {
	t.Helper()
	deadline, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for {
		event, ok, err := watch.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return event
		}
		if err := watch.Wait(deadline); err != nil {
			t.Fatalf("no event: %v", err)
		}
	}
}

func TestWatch(t *testing.T) {
	ctx := mustContext(t)
	other := mustContext(t)
	path := filepath.Join(t.TempDir(), "leases.json")
	config := mustConfig(t, ctx, `{"Network": "10.244.0.0/16"}`)
	store := mustStore(t, ctx, path)
	writer := mustStore(t, other, path)
	watch, err := store.Watch()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("closing a watched store: want EBUSY, got %v", err)
	}
	lease, err := writer.Lease(config, LeaseRequest{NodeName: "w", PublicIP: "192.168.77.21"})
	if err != nil {
		t.Fatal(err)
	}
	event := next(t, watch)
	if event.Kind != LeaseAdded || event.Lease.NodeName() != "w" || event.Lease.Subnet(IPv4) != lease.Subnet(IPv4) {
		t.Errorf("want w added, got %v %v", event.Kind, event.Lease)
	}
	event.Lease.Close()
	if err := writer.Release(lease); err != nil {
		t.Fatal(err)
	}
	lease.Close()
	if event = next(t, watch); event.Kind != LeaseRemoved || event.Lease.NodeName() != "w" {
		t.Errorf("want w removed, got %v %v", event.Kind, event.Lease)
	}
	event.Lease.Close()

	quiet, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := watch.Wait(quiet); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait with nothing to come: want the deadline, got %v", err)
	}
	// Close while another goroutine waits: the wait ends first.
	waited := make(chan error)
	go func() { waited <- watch.Wait(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	if err := watch.Close(); err != nil {
		t.Error(err)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("Wait ended by Close: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Wait did not end when the watch closed")
	}
	if _, _, err := watch.Next(); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Next after Close: want EBADF, got %v", err)
	}
}

func TestSubnetEnv(t *testing.T) {
	ctx := mustContext(t)
	path := filepath.Join(t.TempDir(), "subnet.env")
	want := SubnetEnv{Network: network, Subnet: "10.244.3.1/24", MTU: 1450, IPMasq: true}
	if err := ctx.WriteSubnetEnv(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ctx.ReadSubnetEnv(path)
	if err != nil || got != want {
		t.Errorf("read back %+v %v", got, err)
	}
	text, _ := os.ReadFile(path)
	if !strings.Contains(string(text), "FLANNEL_SUBNET=10.244.3.1/24\n") {
		t.Errorf("subnet.env: %s", text)
	}
	err = ctx.WriteSubnetEnv(path, SubnetEnv{Subnet: strings.Repeat("1", 60)})
	if !errors.Is(err, syscall.EINVAL) {
		t.Errorf("an over-long field: want EINVAL, got %v", err)
	}
	if _, err := ctx.ReadSubnetEnv(path + ".absent"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("a missing file: want ENOENT, got %v", err)
	}
}

func TestLog(t *testing.T) {
	ctx := mustContext(t)
	path := filepath.Join(t.TempDir(), "leases.json")
	config := mustConfig(t, ctx, `{"Network": "10.244.0.0/16"}`)
	store := mustStore(t, ctx, path)
	lease, err := store.Lease(config, LeaseRequest{NodeName: "a", PublicIP: "192.168.77.11"})
	if err != nil {
		t.Fatal(err)
	}
	lease.Close()
	// A record that does not decode is skipped with a warning.
	text, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(text), "192.168.77.11", "192.168.77.256", 1)), 0600)
	var messages []string
	ctx.SetLog(LogWarning, func(level LogLevel, message string) {
		messages = append(messages, message)
	})
	leases, err := store.Leases()
	if err != nil || len(leases) != 0 {
		t.Errorf("the bad record should be skipped: %v %v", leases, err)
	}
	if len(messages) == 0 || !strings.Contains(messages[0], "skipping lease") {
		t.Errorf("log messages: %q", messages)
	}
	ctx.SetLog(LogWarning, nil)
	messages = nil
	store.Leases()
	if len(messages) != 0 {
		t.Errorf("silenced, still logged %q", messages)
	}
}

func TestCloseOrder(t *testing.T) {
	ctx, err := NewContext()
	if err != nil {
		t.Fatal(err)
	}
	store, err := ctx.OpenStore("file:" + filepath.Join(t.TempDir(), "leases.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.Close(); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("closing a context with an open store: want EBUSY, got %v", err)
	}
	store.Close()
	if err := store.Close(); err != nil {
		t.Errorf("closing twice: %v", err)
	}
	if _, err := store.Leases(); !errors.Is(err, syscall.EBADF) {
		t.Errorf("a closed store: want EBADF, got %v", err)
	}
	if err := ctx.Close(); err != nil {
		t.Error(err)
	}
	if _, err := ctx.ParseConfig(`{}`); !errors.Is(err, syscall.EBADF) {
		t.Errorf("a closed context: want EBADF, got %v", err)
	}
}

// A handle nobody closed is freed by its finalizer: the context can close
// once the collector has run.
func TestFinalizers(t *testing.T) {
	ctx, err := NewContext()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	func() {
		for i := 0; i < 10; i++ {
			if _, err := ctx.OpenStore("file:" + filepath.Join(dir, "leases.json")); err != nil {
				t.Fatal(err)
			}
			if _, err := ctx.ParseConfig(`{"Network": "10.244.0.0/16"}`); err != nil {
				t.Fatal(err)
			}
		}
	}()
	for i := 0; i < 50; i++ {
		runtime.GC()
		if err = ctx.Close(); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("the forgotten stores were not finalized: %v", err)
}

// One context shared by goroutines: its calls are serialised.
func TestSharedContext(t *testing.T) {
	ctx := mustContext(t)
	config := mustConfig(t, ctx, `{"Network": "10.244.0.0/16"}`)
	store := mustStore(t, ctx, filepath.Join(t.TempDir(), "leases.json"))
	var wg sync.WaitGroup
	subnets := make([]string, 16)
	errs := make([]error, 16)
	for i := range subnets {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lease, err := store.Lease(config, LeaseRequest{NodeName: "n" + string(rune('a'+i)), PublicIP: "192.168.77.11"})
			if err != nil {
				errs[i] = err
				return
			}
			subnets[i] = lease.Subnet(IPv4)
			lease.Close()
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, subnet := range subnets {
		if errs[i] != nil || seen[subnet] {
			t.Errorf("goroutine %d: %s %v", i, subnet, errs[i])
		}
		seen[subnet] = true
	}
}
