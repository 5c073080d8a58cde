package uring_test

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
)

func TestTimeoutAndCancel(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 8})
	short := &unix.Timespec{Nsec: 10 * int64(time.Millisecond)}
	long := &unix.Timespec{Sec: 10}

	start := time.Now()
	getSQE(t, r).PrepTimeout(short, 0, 0).SetUserData(1)
	if c := reap(t, r, 1)[0]; c.UserData != 1 || c.Res != -int32(unix.ETIME) || time.Since(start) < 9*time.Millisecond {
		t.Errorf("10 ms timeout: got %+v after %v, want -ETIME after 10ms", c, time.Since(start))
	}

	// A timeout with a count ends when that many other completions came.
	getSQE(t, r).PrepTimeout(long, 2, 0).SetUserData(2)
	getSQE(t, r).PrepNop().SetUserData(3)
	getSQE(t, r).PrepNop().SetUserData(4)
	if got := byUserData(t, reap(t, r, 3)); got[2].Res != 0 {
		t.Errorf("timeout with count 2 after 2 nops: got %+v, want Res 0", got[2])
	}

	getSQE(t, r).PrepTimeout(long, 0, 0).SetUserData(5)
	getSQE(t, r).PrepCancel(5, 0).SetUserData(6)
	getSQE(t, r).PrepCancel(99, 0).SetUserData(7)
	got := byUserData(t, reap(t, r, 3))
	tests := []struct {
		ud   uint64
		want int32
	}{{5, -int32(unix.ECANCELED)}, {6, 0}, {7, -int32(unix.ENOENT)}}
	for _, tt := range tests {
		if got[tt.ud].Res != tt.want {
			t.Errorf("user data %d: got %+v, want Res %d", tt.ud, got[tt.ud], tt.want)
		}
	}
}

// TestLinkTimeout bounds a recv with a linked timeout, as a loop bounds an
// idle connection.
func TestLinkTimeout(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 8})
	client, server := tcpPair(t)
	ts := &unix.Timespec{Nsec: 20 * int64(time.Millisecond)}
	buf := make([]byte, 16)

	getSQE(t, r).PrepRecv(server, buf, 0).Link().SetUserData(1)
	getSQE(t, r).PrepLinkTimeout(ts, 0).SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	if got[1].Res != -int32(unix.ECANCELED) || got[2].Res != -int32(unix.ETIME) {
		t.Errorf("recv with no data: got recv %+v, timeout %+v; want -ECANCELED, -ETIME", got[1], got[2])
	}

	if _, err := unix.Write(client, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	getSQE(t, r).PrepRecv(server, buf, 0).Link().SetUserData(3)
	getSQE(t, r).PrepLinkTimeout(ts, 0).SetUserData(4)
	got = byUserData(t, reap(t, r, 2))
	if got[3].Res != 4 || string(buf[:4]) != "ping" || got[4].Res != -int32(unix.ECANCELED) {
		t.Errorf("recv with data: got recv %+v (%q), timeout %+v; want 4 bytes \"ping\", -ECANCELED", got[3], buf[:4], got[4])
	}
}
