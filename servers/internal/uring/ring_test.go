package uring_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
	"flashbench/servers/internal/webtest"
)

func TestNopRoundTrip(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 8})
	const ud = 0xfeed_f00d_dead_beef
	getSQE(t, r).PrepNop().SetUserData(ud)
	n, err := r.SubmitAndWait(1)
	if err != nil || n != 1 {
		t.Fatalf("SubmitAndWait(1): got %d, %v; want 1, nil", n, err)
	}
	var cqes [4]uring.CQE
	if got := r.PeekBatch(cqes[:]); got != 1 {
		t.Fatalf("PeekBatch: got %d completions, want 1", got)
	}
	if want := (uring.CQE{UserData: ud}); cqes[0] != want {
		t.Errorf("completion: got %+v, want %+v", cqes[0], want)
	}
	if got := r.CQReady(); got != 0 {
		t.Errorf("CQReady after the reap: got %d, want 0", got)
	}
}

// TestSetupFlags runs a nop, a timeout and a buffer ring through rings
// set up with each combination of flags a server loop may pass.
func TestSetupFlags(t *testing.T) {
	tests := []struct {
		name  string
		flags uring.SetupFlags
	}{
		{"default", 0},
		{"coop", uring.SetupCoopTaskrun | uring.SetupTaskrunFlag},
		{"single-issuer", uring.SetupSingleIssuer},
		{"defer", uring.SetupSingleIssuer | uring.SetupDeferTaskrun},
		{"defer-flag-submit-all", uring.SetupSingleIssuer | uring.SetupDeferTaskrun | uring.SetupTaskrunFlag | uring.SetupSubmitAll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r := newRing(t, uring.Options{Entries: 4, CQEntries: 64, Flags: tt.flags})
			if r.SQEntries() != 4 || r.CQEntries() != 64 {
				t.Errorf("sizes: got SQ %d, CQ %d; want 4, 64", r.SQEntries(), r.CQEntries())
			}
			ts := &unix.Timespec{Nsec: int64(time.Millisecond)}
			getSQE(t, r).PrepNop().SetUserData(1)
			getSQE(t, r).PrepTimeout(ts, 0, 0).SetUserData(2)
			got := byUserData(t, reap(t, r, 2))
			if got[1].Res != 0 || got[2].Res != -int32(unix.ETIME) {
				t.Errorf("results: got nop %d, timeout %d; want 0, %d", got[1].Res, got[2].Res, -int32(unix.ETIME))
			}
		})
	}
}

func TestSQFull(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 4, CQEntries: 16})
	for i := range 4 {
		getSQE(t, r).PrepNop().SetUserData(uint64(i))
	}
	if sqe := r.GetSQE(); sqe != nil {
		t.Fatal("GetSQE on a full SQ: got an SQE, want nil")
	}
	if got := r.SQReady(); got != 4 {
		t.Errorf("SQReady: got %d, want 4", got)
	}
	if n, err := r.Submit(); n != 4 || err != nil {
		t.Fatalf("Submit: got %d, %v; want 4, nil", n, err)
	}
	for i := 4; i < 8; i++ {
		getSQE(t, r).PrepNop().SetUserData(uint64(i))
	}
	got := byUserData(t, reap(t, r, 8))
	for i := range uint64(8) {
		if _, ok := got[i]; !ok {
			t.Errorf("user data %d: got no completion, want one", i)
		}
	}
}

func TestCloseIdempotentNoLeak(t *testing.T) {
	before := webtest.OpenFds(t)
	for range 20 {
		r, err := uring.New(uring.Options{Entries: 8})
		if errors.Is(err, uring.ErrUnavailable) {
			t.Skipf("io_uring is unavailable on this machine: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.NewBufRing(1, 8, 256); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("Close again: got %v, want nil", err)
		}
		if sqe := r.GetSQE(); sqe != nil || r.PeekBatch(make([]uring.CQE, 1)) != 0 || r.Fd() != -1 {
			t.Fatalf("closed ring: got GetSQE %p, Fd %d; want nil, -1", sqe, r.Fd())
		}
		if _, err := r.Submit(); err != nil {
			t.Fatalf("Submit on a closed ring with nothing to submit: got %v, want nil", err)
		}
		if _, err := r.SubmitAndWait(1); !errors.Is(err, unix.EBADF) {
			t.Fatalf("SubmitAndWait on a closed ring: got %v, want EBADF", err)
		}
	}
	if after := webtest.OpenFds(t); after != before {
		t.Errorf("open descriptors: got %d after 20 rings, want %d as before", after, before)
	}
}

func TestProbe(t *testing.T) {
	r := newRing(t, uring.Options{Entries: 4})
	if !r.Supports(uring.OpNop) {
		t.Error("Supports(OpNop): got false, want true")
	}
	if err := r.Require(uring.ServerOps()...); err != nil {
		t.Errorf("Require(ServerOps()...): got %v, want nil on this kernel", err)
	}
	tests := []struct {
		ops  []uring.Op
		want string
	}{
		{[]uring.Op{uring.OpNop, 255}, "uring: the kernel lacks IORING_OP_255"},
		{[]uring.Op{254, uring.OpSend, 255}, "uring: the kernel lacks IORING_OP_254, IORING_OP_255"},
	}
	for _, tt := range tests {
		if err := r.Require(tt.ops...); err == nil || err.Error() != tt.want {
			t.Errorf("Require(%v): got %v, want %q", tt.ops, err, tt.want)
		}
	}
	if got, want := uring.OpSendZC.String(), "IORING_OP_SEND_ZC"; got != want {
		t.Errorf("OpSendZC.String(): got %q, want %q", got, want)
	}
}

// TestUnavailable checks the one line New gives when the machine refuses
// io_uring, for each value of kernel.io_uring_disabled.
func TestUnavailable(t *testing.T) {
	dir := t.TempDir()
	write := func(v string) string {
		p := dir + "/io_uring_disabled_" + strings.TrimSpace(v)
		if err := writeFile(p, v); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		errno unix.Errno
		path  string
		want  string
	}{
		{unix.EPERM, write("2\n"), "uring: io_uring is unavailable: disabled on this machine (kernel.io_uring_disabled = 2): io_uring_setup: operation not permitted"},
		{unix.EPERM, write("1\n"), "uring: io_uring is unavailable: disabled on this machine (kernel.io_uring_disabled = 1): io_uring_setup: operation not permitted"},
		{unix.EPERM, write("0\n"), "uring: io_uring is unavailable: kernel.io_uring_disabled = 0, so a seccomp filter (a container's?) forbids it: io_uring_setup: operation not permitted"},
		{unix.ENOSYS, "", "uring: io_uring is unavailable: the kernel has no io_uring: io_uring_setup: function not implemented"},
		{unix.EINVAL, "", "uring: io_uring_setup: invalid argument"},
	}
	for _, tt := range tests {
		err := uring.SetupError(tt.errno, tt.path)
		if err.Error() != tt.want {
			t.Errorf("setup error %v with %s: got %q, want %q", tt.errno, tt.path, err, tt.want)
		}
		if unavailable := tt.errno != unix.EINVAL; errors.Is(err, uring.ErrUnavailable) != unavailable {
			t.Errorf("setup error %v: errors.Is(ErrUnavailable) got %v, want %v", tt.errno, !unavailable, unavailable)
		}
		if !errors.Is(err, tt.errno) {
			t.Errorf("setup error %v: got %v, want it to wrap the errno", tt.errno, err)
		}
	}
}

func TestCQEHelpers(t *testing.T) {
	tests := []struct {
		cqe         uring.CQE
		bid         uint16
		buffer      bool
		more, notif bool
		err         error
	}{
		{uring.CQE{Res: 10}, 0, false, false, false, nil},
		{uring.CQE{Res: 10, Flags: 7<<16 | uring.CQEFBuffer | uring.CQEFMore}, 7, true, true, false, nil},
		{uring.CQE{Res: 0, Flags: uring.CQEFNotif}, 0, false, false, true, nil},
		{uring.CQE{Res: -int32(unix.ENOBUFS)}, 0, false, false, false, syscall.ENOBUFS},
	}
	for _, tt := range tests {
		bid, buffer := tt.cqe.Buffer()
		if bid != tt.bid || buffer != tt.buffer || tt.cqe.More() != tt.more || tt.cqe.Notif() != tt.notif || !errors.Is(tt.cqe.Err(), tt.err) {
			t.Errorf("%+v: got Buffer %d, %v, More %v, Notif %v, Err %v; want %d, %v, %v, %v, %v",
				tt.cqe, bid, buffer, tt.cqe.More(), tt.cqe.Notif(), tt.cqe.Err(), tt.bid, tt.buffer, tt.more, tt.notif, tt.err)
		}
	}
}

// TestSteadyStateAllocs checks that a loop turn (prepare, submit and wait,
// reap) allocates nothing.
func TestSteadyStateAllocs(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 16})
	cqes := make([]uring.CQE, 16)
	ts := new(unix.Timespec)
	*ts = unix.NsecToTimespec(int64(time.Second))
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(200, func() {
		for i := range 8 {
			r.GetSQE().PrepNop().SetUserData(uint64(i))
		}
		r.GetSQE().PrepSend(-1, buf, unix.MSG_NOSIGNAL).SetUserData(8)
		r.GetSQE().PrepTimeout(ts, 1, 0).SetUserData(9)
		if _, err := r.SubmitAndWait(10); err != nil {
			panic(err)
		}
		for got := 0; got < 10; {
			got += r.PeekBatch(cqes)
			if got < 10 {
				r.SubmitAndWaitTimeout(1, time.Second)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per loop turn: got %v, want 0", allocs)
	}
}

// TestWaitTimeout checks that a wait on an idle ring ends at its timeout
// without an error.
func TestWaitTimeout(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 4})
	start := time.Now()
	n, err := r.SubmitAndWaitTimeout(1, 30*time.Millisecond)
	if el := time.Since(start); n != 0 || err != nil || el < 25*time.Millisecond {
		t.Errorf("SubmitAndWaitTimeout(1, 30ms) on an idle ring: got %d, %v after %v; want 0, nil after 30ms", n, err, el)
	}
	if got := r.CQReady(); got != 0 {
		t.Errorf("CQReady: got %d, want 0", got)
	}
}

func TestBufRingErrors(t *testing.T) {
	r := newRing(t, uring.Options{Entries: 4})
	tests := []struct {
		group          uint16
		entries, size  uint32
		wantErrContain string
	}{
		{1, 3, 64, "want a power of two"},
		{1, 1 << 16, 64, "want a power of two"},
		{1, 4, 0, "buffers of 0 bytes"},
	}
	for _, tt := range tests {
		if _, err := r.NewBufRing(tt.group, tt.entries, tt.size); err == nil || !strings.Contains(err.Error(), tt.wantErrContain) {
			t.Errorf("NewBufRing(%d, %d, %d): got %v, want an error with %q", tt.group, tt.entries, tt.size, err, tt.wantErrContain)
		}
	}
	b, err := r.NewBufRing(1, 4, 64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.NewBufRing(1, 4, 64); !errors.Is(err, unix.EEXIST) {
		t.Errorf("NewBufRing of group 1 twice: got %v, want EEXIST", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("BufRing.Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("BufRing.Close again: got %v, want nil", err)
	}
	if _, err := r.NewBufRing(1, 4, 64); err != nil {
		t.Errorf("NewBufRing of group 1 after its Close: got %v, want nil", err)
	}
}

// TestEnable sets a disabled single-issuer ring up on one goroutine and
// runs it on another, locked to its thread, as a server loop does: the
// ring refuses submissions until Enable, and then takes them from the
// thread that enabled it.
func TestEnable(t *testing.T) {
	flags := uring.SetupRDisabled | uring.SetupSingleIssuer | uring.SetupDeferTaskrun | uring.SetupTaskrunFlag
	r := newRing(t, uring.Options{Entries: 4, Flags: flags})
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		done <- func() error {
			r.GetSQE().PrepNop().SetUserData(1)
			if _, err := r.Submit(); !errors.Is(err, syscall.EBADFD) {
				return fmt.Errorf("Submit before Enable: got %v, want EBADFD", err)
			}
			if err := r.Enable(); err != nil {
				return fmt.Errorf("Enable: %v", err)
			}
			if _, err := r.SubmitAndWaitTimeout(1, 5*time.Second); err != nil {
				return fmt.Errorf("SubmitAndWaitTimeout after Enable: %v", err)
			}
			var cqes [2]uring.CQE
			if n := r.PeekBatch(cqes[:]); n != 1 || cqes[0].UserData != 1 || cqes[0].Res != 0 {
				return fmt.Errorf("completions after Enable: got %+v, want the nop's", cqes[:n])
			}
			return nil
		}()
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	plain := newRing(t, uring.Options{Entries: 4})
	if err := plain.Enable(); err == nil || !strings.Contains(err.Error(), "SetupRDisabled") {
		t.Errorf("Enable of a ring set up enabled: got %v, want an error naming SetupRDisabled", err)
	}
}
