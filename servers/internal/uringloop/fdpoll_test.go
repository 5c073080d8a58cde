package uringloop

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/uring"
	"flashbench/servers/internal/webtest"
)

// manualLoop builds a loop that the test drives by hand, turn by turn on
// the test's own thread (the ring's only issuer), without Run. The
// returned stop shuts it down as Run does (the test's clean-up calls it
// too); a test calls it before it counts descriptors.
func manualLoop(t *testing.T) (l *Loop, stop func()) {
	t.Helper()
	runtime.LockOSThread()
	lfd, _, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	core, err := httpcore.New(httpcore.Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	l, err = New(lfd, core, nil, httpconn.ServeOptions{})
	if errors.Is(err, uring.ErrUnavailable) {
		t.Skipf("io_uring is unavailable on this machine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := l.ring.Enable(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		l.closeAll()
		core.Close()
		unix.Close(lfd)
		runtime.UnlockOSThread()
	}
	t.Cleanup(stop)
	return l, stop
}

// turnsUntil runs turns of l, none waiting longer than 10 ms, until cond
// holds or d has passed; it reports whether cond held.
func turnsUntil(t *testing.T, l *Loop, d time.Duration, cond func() bool) bool {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		if cond() {
			return true
		}
		l.After(10*time.Millisecond, func() {})
		if err := l.turn(); err != nil {
			t.Fatal(err)
		}
	}
	return cond()
}

// pipe returns a non-blocking pipe.
func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	return p[0], p[1]
}

// reader is an AddFd function that drains its pipe, as a CGI face does.
type reader struct {
	fd    int
	calls int
	got   []byte
}

func (r *reader) readable(uint32) {
	r.calls++
	var buf [64]byte
	for {
		n, err := unix.Read(r.fd, buf[:])
		if n <= 0 || err != nil {
			return
		}
		r.got = append(r.got, buf[:n]...)
	}
}

func write(t *testing.T, fd int, s string) {
	t.Helper()
	if _, err := unix.Write(fd, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// pollCase is a loop driven by hand with a pipe registered, its poll
// armed.
type pollCase struct {
	t    *testing.T
	l    *Loop
	stop func()
	fds0 int
	r, w int
	rd   *reader
	more []int // other descriptors the case opened
}

func newPollCase(t *testing.T) *pollCase {
	pc := &pollCase{t: t, fds0: webtest.OpenFds(t)}
	pc.l, pc.stop = manualLoop(t)
	pc.r, pc.w = pipe(t)
	pc.rd = &reader{fd: pc.r}
	if err := pc.l.AddFd(pc.r, unix.EPOLLIN, pc.rd.readable); err != nil {
		t.Fatal(err)
	}
	turnsUntil(t, pc.l, 20*time.Millisecond, func() bool { return false }) // the poll is armed
	return pc
}

// finish removes the registration, closes the pipes and stops the loop,
// and fails when the loop left operations in flight or a descriptor
// stayed open.
func (pc *pollCase) finish() {
	t := pc.t
	t.Helper()
	pc.l.RemoveFd(pc.r)
	for _, fd := range append(pc.more, pc.r, pc.w) {
		unix.Close(fd)
	}
	pc.stop()
	if pc.l.ops != 0 {
		t.Errorf("operations in flight after the loop stopped: got %d, want 0", pc.l.ops)
	}
	if n := webtest.OpenFds(t); n != pc.fds0 {
		t.Errorf("open descriptors: got %d, want %d as before the test", n, pc.fds0)
	}
}

// TestAddFd registers a real pipe on the ring: the function runs on every
// arrival of data, drained each time (the poll is edge-triggered).
func TestAddFd(t *testing.T) {
	pc := newPollCase(t)
	l, r, rd := pc.l, pc.r, pc.rd
	if err := l.AddFd(r, unix.EPOLLIN, rd.readable); err == nil {
		t.Errorf("AddFd(%d) twice: got no error, want EEXIST", r)
	}
	for _, s := range []string{"hello", " ring", " again"} {
		want := string(rd.got) + s
		write(t, pc.w, s)
		if !turnsUntil(t, l, 2*time.Second, func() bool { return string(rd.got) == want }) {
			t.Fatalf("after writing %q: got %q, want %q", s, rd.got, want)
		}
	}
	if err := l.RemoveFd(r); err != nil {
		t.Fatal(err)
	}
	if err := l.RemoveFd(r); err == nil {
		t.Errorf("RemoveFd(%d) twice: got no error, want ENOENT", r)
	}
	pc.finish()
}

// TestRemoveFdReused removes a pipe with data pending, closes it and
// registers a new pipe under the same descriptor number at once: the
// removed function never runs again, the new one runs for its own data
// only, and the removed poll's slot is free once the poll has ended.
func TestRemoveFdReused(t *testing.T) {
	pc := newPollCase(t)
	l, r, old := pc.l, pc.r, pc.rd
	oldSlot := l.pollOf[r]
	write(t, pc.w, "for the old pipe") // its wake-up is due at the next turn
	if err := l.RemoveFd(r); err != nil {
		t.Fatal(err)
	}
	unix.Close(r)
	r2, w2 := pipe(t)
	pc.more = append(pc.more, w2)
	if r2 != r { // take the removed number, as a new process's pipe would
		if err := unix.Dup3(r2, r, unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		unix.Close(r2)
	}
	cur := &reader{fd: r}
	if err := l.AddFd(r, unix.EPOLLIN, cur.readable); err != nil {
		t.Fatal(err)
	}
	if l.pollOf[r] == oldSlot {
		t.Fatalf("slot %d reused while its poll may still complete", oldSlot)
	}
	turnsUntil(t, l, 100*time.Millisecond, func() bool { return false })
	if old.calls != 0 || cur.calls != 0 {
		t.Errorf("after RemoveFd: got %d calls of the removed function and %d of the new one, want 0 and 0", old.calls, cur.calls)
	}
	if p := l.polls[oldSlot]; p.armed || p.fn != nil {
		t.Errorf("removed slot %d: got armed %v, registered %v; want its poll ended", oldSlot, p.armed, p.fn != nil)
	}
	write(t, w2, "new")
	if !turnsUntil(t, l, 2*time.Second, func() bool { return string(cur.got) == "new" }) || old.calls != 0 {
		t.Errorf("new pipe: got %q and %d calls of the removed function, want %q and 0", cur.got, old.calls, "new")
	}
	pc.finish()
}

// TestPollRearmed ends a registered descriptor's multishot poll from
// outside (a cancel, as the kernel ends one whose completion does not fit
// the CQ): the loop arms it again, and data written afterwards still
// reaches the function.
func TestPollRearmed(t *testing.T) {
	pc := newPollCase(t)
	l, idx := pc.l, pc.l.pollOf[pc.r]
	const cancelTag = 0xfe // a kind dispatch ignores
	l.sqe().PrepCancel(tag(idx, kindPoll), 0).SetUserData(cancelTag)
	cancelRes, ended := int32(1), false
	var cqes [16]uring.CQE
	for end := time.Now().Add(2 * time.Second); (cancelRes == 1 || !ended) && time.Now().Before(end); {
		l.After(10*time.Millisecond, func() {})
		if err := l.enter(); err != nil {
			t.Fatal(err)
		}
		n := l.ring.PeekBatch(cqes[:])
		for i := range n {
			c := &cqes[i]
			switch {
			case c.UserData == cancelTag:
				cancelRes = c.Res
			case c.UserData == tag(idx, kindPoll) && !c.More():
				ended = c.Res == -int32(unix.ECANCELED)
			}
			l.dispatch(c)
		}
		l.now = l.clock()
		l.expire()
	}
	if cancelRes != 0 || !ended {
		t.Fatalf("cancel: got result %d, poll ended %v; want 0 and true", cancelRes, ended)
	}
	if p := l.polls[idx]; !p.armed || p.fn == nil {
		t.Fatalf("after its poll ended: got armed %v, registered %v; want both", p.armed, p.fn != nil)
	}
	write(t, pc.w, "after")
	if !turnsUntil(t, l, 2*time.Second, func() bool { return string(pc.rd.got) == "after" }) {
		t.Errorf("after the re-arm: got %q, want %q", pc.rd.got, "after")
	}
	pc.finish()
}
