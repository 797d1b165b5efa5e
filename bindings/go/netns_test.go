// netns_test.go - the binding on a real kernel, as root, in the namespaces
// tests/netns/test-go.sh makes (names in the environment; skipped without
// them): a 2-host overlay over each link kind (vxlan, host-gw, udp with its
// loop in a goroutine), then two agents each run by Node.Run until their
// pods reach each other.
package ovl

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// host is one of the two hosts test-go.sh made: its namespace, its pod's,
// its underlay address and the subnet it is meant to lease.
type host struct {
	netns, pod, ip, subnet, name string
}

// podAddress is the pod's address in the host's subnet (.2).
func (h host) podAddress() string {
	return strings.TrimSuffix(h.subnet, "0/24") + "2"
}

func namespaces(t *testing.T) (tmp string, hosts [2]host) {
	env := map[string]string{}
	for _, name := range []string{"OVL_GO_NETNS", "H1", "H2", "P1", "P2", "S1", "S2", "T_TMP"} {
		env[name] = os.Getenv(name)
		if env[name] == "" {
			t.Skip("needs root and the namespaces of tests/netns/test-go.sh (" + name + " is not set)")
		}
	}
	hosts[0] = host{env["H1"], env["P1"], "192.168.77.11", env["S1"], "go-h1"}
	hosts[1] = host{env["H2"], env["P2"], "192.168.77.12", env["S2"], "go-h2"}
	return env["T_TMP"], hosts
}

// ping is true when the pod answers within tries one-second pings.
func ping(from, address string, tries int) bool {
	for i := 0; i < tries; i++ {
		if exec.Command("ip", "netns", "exec", from, "ping", "-c", "1", "-W", "1", "-q", address).Run() == nil {
			return true
		}
	}
	return false
}

func reach(t *testing.T, what string, hosts [2]host, want bool) {
	t.Helper()
	tries := 3
	if !want {
		tries = 1
	}
	for i, h := range hosts {
		other := hosts[1-i]
		if got := ping(h.pod, other.podAddress(), tries); got != want {
			t.Errorf("%s: pod of %s reaches %s: %v, want %v", what, h.name, other.podAddress(), got, want)
		}
	}
}

func linkExists(netns, name string) bool {
	return exec.Command("ip", "-n", netns, "link", "show", name).Run() == nil
}

func hostContexts(t *testing.T, hosts [2]host) (contexts [2]*Context) {
	for i, h := range hosts {
		ctx, err := NewContextInNetns(h.netns)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ctx.Close() })
		contexts[i] = ctx
	}
	return
}

func TestOverlay(t *testing.T) {
	tmp, hosts := namespaces(t)
	ctx := mustContext(t)
	config := mustConfig(t, ctx, `{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}`)
	store := mustStore(t, ctx, filepath.Join(tmp, "leases.json"))
	var leases [2]*Lease
	for i, h := range hosts {
		lease, err := store.Lease(config, LeaseRequest{NodeName: h.name, PublicIP: h.ip, PreferredSubnet: h.subnet})
		if err != nil {
			t.Fatal(err)
		}
		defer lease.Close()
		if lease.Subnet(IPv4) != h.subnet {
			t.Fatalf("%s leased %s, want its preferred %s", h.name, lease.Subnet(IPv4), h.subnet)
		}
		leases[i] = lease
	}
	contexts := hostContexts(t, hosts)

	t.Run("vxlan", func(t *testing.T) {
		var links [2]*Link
		for i, h := range hosts {
			link, err := contexts[i].VxlanUp(VxlanOptions{Local: h.ip, Subnet: h.subnet, Network: network})
			if err != nil {
				t.Fatal(err)
			}
			defer link.Close()
			links[i] = link
		}
		if links[0].Name() != "flannel.1" || links[0].MTU() != 1450 || links[0].Ifindex() <= 0 {
			t.Errorf("device %s MTU %d index %d", links[0].Name(), links[0].MTU(), links[0].Ifindex())
		}
		if err := links[0].PeerAdd(Peer{Subnet: hosts[1].subnet, PublicIP: hosts[1].ip, MAC: links[1].MAC()}); err != nil {
			t.Fatal(err)
		}
		if err := links[1].PeerSync([]Peer{{Subnet: hosts[0].subnet, PublicIP: hosts[0].ip, MAC: links[0].MAC()}}); err != nil {
			t.Fatal(err)
		}
		reach(t, "vxlan", hosts, true)
		peers, err := links[0].Peers()
		if err != nil || len(peers) != 1 || peers[0].Subnet != hosts[1].subnet || peers[0].MAC != links[1].MAC() {
			t.Errorf("peer list: %v %v", peers, err)
		}
		err = links[0].PeerAdd(Peer{Subnet: "10.99.0.0/24", PublicIP: hosts[1].ip, MAC: links[1].MAC()})
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("a peer outside the network: want EINVAL, got %v", err)
		}
		// A second handle on the device, as another process would open it.
		reopened, err := contexts[0].OpenLink("flannel.1")
		if err != nil || reopened.MAC() != links[0].MAC() {
			t.Errorf("reopened: %v %v", reopened, err)
		} else {
			if json, _ := reopened.JSON(); !strings.Contains(json, hosts[0].subnet) {
				t.Errorf("reopened link's JSON lacks the subnet: %s", json)
			}
			reopened.Close()
		}
		if err := links[0].PeerSync(nil); err != nil {
			t.Fatal(err)
		}
		if peers, _ := links[0].Peers(); len(peers) != 0 {
			t.Errorf("sync to no peers left %v", peers)
		}
		if ping(hosts[0].pod, hosts[1].podAddress(), 1) {
			t.Error("pod 1 still reaches pod 2 without the peer")
		}
		for i, link := range links {
			if err := link.Down(); err != nil {
				t.Error(err)
			}
			if linkExists(hosts[i].netns, "flannel.1") {
				t.Errorf("%s: Down left flannel.1", hosts[i].name)
			}
		}
	})

	t.Run("host-gw", func(t *testing.T) {
		var links [2]*Link
		for i, h := range hosts {
			link, err := contexts[i].HostgwUp(HostgwOptions{Local: h.ip, Subnet: h.subnet, Network: network})
			if err != nil {
				t.Fatal(err)
			}
			defer link.Close()
			links[i] = link
			if err := link.PeerAdd(Peer{Subnet: hosts[1-i].subnet, PublicIP: hosts[1-i].ip}); err != nil {
				t.Fatal(err)
			}
		}
		if links[0].Name() != "host-gw:eth0" || links[0].MTU() != 1500 {
			t.Errorf("link %s MTU %d", links[0].Name(), links[0].MTU())
		}
		reach(t, "host-gw", hosts, true)
		err := links[0].PeerAdd(Peer{Subnet: "10.244.200.0/24", PublicIP: "192.168.99.1"})
		if !errors.Is(err, syscall.ENETUNREACH) {
			t.Errorf("an off-link peer: want ENETUNREACH, got %v", err)
		}
		for _, link := range links {
			if err := link.Down(); err != nil {
				t.Error(err)
			}
		}
		reach(t, "host-gw after Down", hosts, false)
	})

	t.Run("udp", func(t *testing.T) {
		run, cancel := context.WithCancel(context.Background())
		defer cancel()
		var links [2]*Link
		done := make(chan error, 2)
		for i, h := range hosts {
			link, err := contexts[i].UDPUp(UDPOptions{Local: h.ip, Subnet: h.subnet, Network: network})
			if err != nil {
				t.Fatal(err)
			}
			defer link.Close()
			links[i] = link
			if err := link.PeerSync([]Peer{{Subnet: hosts[1-i].subnet, PublicIP: hosts[1-i].ip}}); err != nil {
				t.Fatal(err)
			}
			go func() { done <- link.Run(run) }()
		}
		if _, err := links[0].FD(); err != nil {
			t.Errorf("a udp link has a descriptor: %v", err)
		}
		reach(t, "udp", hosts, true)
		stats, err := links[0].Stats()
		if err != nil || stats.PacketsOut == 0 || stats.PacketsIn == 0 {
			t.Errorf("counters after pings: %+v %v", stats, err)
		}
		cancel()
		for range links {
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run after cancel: %v", err)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		}
		reach(t, "udp without its loop", hosts, false)
		for i, link := range links {
			link.Close()
			if linkExists(hosts[i].netns, "flannel0") {
				t.Errorf("%s: Close left flannel0", hosts[i].name)
			}
		}
	})

	t.Run("vxlan-fd", func(t *testing.T) {
		link, err := contexts[0].VxlanUp(VxlanOptions{Local: hosts[0].ip, Subnet: hosts[0].subnet, Network: network})
		if err != nil {
			t.Fatal(err)
		}
		defer link.Close()
		if _, err := link.FD(); !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Errorf("vxlan has no userspace data path: want EOPNOTSUPP, got %v", err)
		}
		link.Down()
	})

	// The agents: each Node runs its loop in a goroutine; they keep the
	// subnets leased above (same node names) and find each other.
	t.Run("nodes", func(t *testing.T) {
		run, cancel := context.WithCancel(context.Background())
		defer cancel()
		var nodes [2]*Node
		done := make(chan error, 2)
		for i, h := range hosts {
			nodeStore := mustStore(t, contexts[i], filepath.Join(tmp, "leases.json"))
			node, err := contexts[i].StartNode(nodeStore, config, NodeOptions{
				NodeName: h.name, Iface: "eth0", SubnetFile: filepath.Join(tmp, h.name+".env"),
				TTL: time.Minute, Resync: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			nodes[i] = node
			if err := nodeStore.Close(); !errors.Is(err, syscall.EBUSY) {
				t.Errorf("closing a running node's store: want EBUSY, got %v", err)
			}
			go func() { done <- node.Run(run) }()
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			s0, err0 := nodes[0].Status()
			s1, err1 := nodes[1].Status()
			if err0 == nil && err1 == nil && s0.Ready && s1.Ready && s0.Peers == 1 && s1.Peers == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not ready with one peer each in 10 s: %+v %v / %+v %v", s0, err0, s1, err1)
			}
			time.Sleep(50 * time.Millisecond)
		}
		status, _ := nodes[0].Status()
		if status.Subnet != hosts[0].subnet || status.Device != "flannel.1" || status.Backend != "vxlan" ||
			status.Iface != "eth0" || status.LastError != nil || time.Until(status.LeaseExpiration) <= 0 {
			t.Errorf("status: %+v", status)
		}
		env, err := ctx.ReadSubnetEnv(filepath.Join(tmp, hosts[0].name+".env"))
		if err != nil || env.Subnet != strings.TrimSuffix(hosts[0].subnet, "0/24")+"1/24" || env.MTU != 1450 {
			t.Errorf("subnet.env: %+v %v", env, err)
		}
		reach(t, "agents", hosts, true)
		// Stop while Run runs: Run returns nil first, then the node goes.
		for _, node := range nodes {
			if err := node.Stop(true); err != nil {
				t.Error(err)
			}
		}
		for range nodes {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run of a stopped node: %v", err)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("Run did not return after Stop")
			}
		}
		if _, err := nodes[0].Status(); !errors.Is(err, syscall.EBADF) {
			t.Errorf("status of a stopped node: want EBADF, got %v", err)
		}
		if linkExists(hosts[0].netns, "flannel.1") {
			t.Error("teardown left flannel.1")
		}
		if leases, err := store.Leases(); err != nil || len(leases) != 0 {
			t.Errorf("teardown releases the leases: %v %v", leases, err)
		}
	})
}
