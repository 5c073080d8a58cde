package harness

import (
	"fmt"
	"net/netip"
)

// BenchNet is 198.18.0.0/15, the range RFC 2544 reserves for benchmarking:
// the harness's own namespaces take their addresses from it.
var BenchNet = netip.MustParsePrefix("198.18.0.0/15")

// CheckTarget refuses a target address the harness must not send load to:
// anything but loopback, its own benchmarking range and the hosts it was
// explicitly given.
func CheckTarget(addr netip.Addr, hosts []netip.Addr) error {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return fmt.Errorf("target: invalid address")
	}
	if addr.IsLoopback() || BenchNet.Contains(addr) {
		return nil
	}
	for _, h := range hosts {
		if h.Unmap() == addr {
			return nil
		}
	}
	return fmt.Errorf("target %s: refused: not loopback, not in %s and not a host given to the harness", addr, BenchNet)
}
