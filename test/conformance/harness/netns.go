package harness

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
)

// podNetwork is the bridge every Pod's veth joins. The host holds the bridge's first
// address, so the host (the suite, Envoy) reaches every Pod IP directly.
type podNetwork struct {
	bridge  string
	prefix  netip.Prefix // the pod CIDR, e.g. 10.244.0.0/16
	gateway netip.Addr   // the bridge's address: the first of the prefix
	nsPref  string       // name prefix of the network namespaces and host veths

	mu   sync.Mutex
	next uint32
	free []netip.Addr
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// newPodNetwork removes what an earlier run with the same names left behind, then
// creates the bridge with the gateway address.
func newPodNetwork(bridge, cidr, nsPrefix string) (*podNetwork, error) {
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("the process kubelet needs the ip command (iproute2): %w", err)
	}
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil || !prefix.Addr().Is4() || prefix.Bits() > 24 {
		return nil, fmt.Errorf("pod CIDR %q: want an IPv4 prefix of /24 or wider", cidr)
	}
	prefix = prefix.Masked()
	n := &podNetwork{bridge: bridge, prefix: prefix, gateway: prefix.Addr().Next(), nsPref: nsPrefix, next: 2}
	n.cleanupStale()
	if err := ip("link", "add", bridge, "type", "bridge"); err != nil {
		return nil, err
	}
	if err := ip("addr", "add", fmt.Sprintf("%s/%d", n.gateway, prefix.Bits()), "dev", bridge); err != nil {
		_ = ip("link", "del", bridge)
		return nil, err
	}
	if err := ip("link", "set", bridge, "up"); err != nil {
		_ = ip("link", "del", bridge)
		return nil, err
	}
	return n, nil
}

// cleanupStale deletes namespaces with the prefix and the bridge (a run that was killed).
func (n *podNetwork) cleanupStale() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for line := range strings.SplitSeq(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.HasPrefix(name, n.nsPref) {
			_ = ip("netns", "del", name)
		}
	}
	if exec.Command("ip", "link", "show", n.bridge).Run() == nil {
		_ = ip("link", "del", n.bridge)
	}
}

// allocate returns an unused Pod address (never the network, gateway or broadcast one).
// Released addresses are reused only once the CIDR is exhausted, so that a stale
// EndpointSlice never points at another Pod.
func (n *podNetwork) allocate() (netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	base := n.prefix.Addr().As4()
	size := uint32(1) << (32 - n.prefix.Bits())
	if n.next >= size-1 {
		if len(n.free) == 0 {
			return netip.Addr{}, fmt.Errorf("pod CIDR %s is full", n.prefix)
		}
		a := n.free[0]
		n.free = n.free[1:]
		return a, nil
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(base[:])+n.next)
	n.next++
	return netip.AddrFrom4(b), nil
}

func (n *podNetwork) release(a netip.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.free = append(n.free, a)
}

// addPod creates network namespace ns with eth0 (addr) on a veth into the bridge, and
// lo up; the default route goes through the bridge's address.
func (n *podNetwork) addPod(ns, hostVeth string, addr netip.Addr) error {
	if err := ip("netns", "add", ns); err != nil {
		return err
	}
	steps := [][]string{
		{"link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", hostVeth, "master", n.bridge},
		{"link", "set", hostVeth, "up"},
		{"-n", ns, "addr", "add", fmt.Sprintf("%s/%d", addr, n.prefix.Bits()), "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "route", "add", "default", "via", n.gateway.String()},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			n.delPod(ns, hostVeth)
			return err
		}
	}
	return nil
}

// delPod deletes the namespace; its eth0, and so the host veth, go with it.
func (n *podNetwork) delPod(ns, hostVeth string) {
	_ = ip("netns", "del", ns)
	if exec.Command("ip", "link", "show", hostVeth).Run() == nil {
		_ = ip("link", "del", hostVeth)
	}
}

func (n *podNetwork) close() {
	n.cleanupStale()
}
