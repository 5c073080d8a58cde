package harness_test

import (
	"net/netip"
	"testing"

	"flashbench/harness"
)

func TestCheckTarget(t *testing.T) {
	given := []netip.Addr{netip.MustParseAddr("10.1.2.3")}
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"127.5.6.7", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"198.18.0.1", true},
		{"198.19.255.254", true},
		{"198.20.0.1", false},
		{"198.17.255.255", false},
		{"10.1.2.3", true},
		{"10.1.2.4", false},
		{"8.8.8.8", false},
		{"192.168.1.1", false},
		{"0.0.0.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := harness.CheckTarget(netip.MustParseAddr(tt.addr), given)
			if (err == nil) != tt.ok {
				t.Errorf("CheckTarget(%s): got %v, want ok=%v", tt.addr, err, tt.ok)
			}
		})
	}
	if err := harness.CheckTarget(netip.Addr{}, nil); err == nil {
		t.Error("CheckTarget(invalid): got nil, want an error")
	}
}
