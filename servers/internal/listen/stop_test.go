package listen_test

import (
	"net"
	"testing"
	"time"

	"flashbench/servers/internal/listen"
)

// TestStop checks that Begin wakes a thread blocked in accept4, closes C,
// refuses new connections, keeps the first deadline, and does it once.
func TestStop(t *testing.T) {
	acc, lfd, addr := newListener(t, listen.Options{Blocking: true})
	stop := listen.NewStop(lfd)
	// A stop channel that never closes: only the shut-down socket can
	// end this Wait.
	blocked := waitAsync(acc, make(chan struct{}))
	time.Sleep(quiet) // in accept4 by now, most likely
	if first := stop.Begin(3 * time.Second); !first {
		t.Error("first Begin: got false, want true")
	}
	expectFd(t, blocked, false, "listener stopped")
	select {
	case <-stop.C():
	default:
		t.Error("C after Begin: open, want closed")
	}
	if first := stop.Begin(time.Second); first {
		t.Error("second Begin: got true, want false")
	}
	if d := stop.Deadline(); d != 3*time.Second {
		t.Errorf("Deadline: got %v, want 3s (the first Begin's)", d)
	}
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Error("dial after Begin: connected, want refused")
	}
}
