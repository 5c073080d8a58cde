package amped_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"flashbench/servers/amped"

	"golang.org/x/sys/unix"
)

// Environment of a re-executed test binary: the role it plays and, for a
// helper, its root and a fault to inject.
const (
	envRole  = "AMPED_TEST_ROLE"
	envRoot  = "AMPED_TEST_ROOT"
	envFault = "AMPED_TEST_FAULT"
)

func TestMain(m *testing.M) {
	if os.Getenv(envRole) == "helper" {
		os.Exit(helperProcess())
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// helperProcess runs amped.HelperMain as a helper process would, with an
// optional fault injected when a request carrying a marker arrives:
// "exit:MARK" exits at once (a crash), "hang:MARK:FILE" writes its pid to
// FILE and hangs forever, unless FILE exists (so only the first helper
// hangs), "hangall:MARK" hangs forever in every helper. "start:FILE"
// exits before reading anything while FILE exists (a helper binary that
// cannot start). "busy:DIR" makes every job slow (a slow disk): the helper
// creates DIR/PID, sleeps busyFor, then removes it and serves the job, so
// that a test can see which helpers are in the middle of a job.
func helperProcess() int {
	fault := os.Getenv(envFault)
	if file, ok := strings.CutPrefix(fault, "start:"); ok {
		if _, err := os.Stat(file); err == nil {
			return 3
		}
		fault = ""
	}
	in := &faultReader{f: os.Stdin, fault: fault}
	if err := amped.HelperMain(os.Getenv(envRoot), in, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type faultReader struct {
	f     *os.File
	fault string
}

// busyFor is how long a job takes under the "busy" fault.
const busyFor = 20 * time.Millisecond

func (r *faultReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	kind, arg, _ := strings.Cut(r.fault, ":")
	if kind == "busy" {
		if n > 0 {
			marker := filepath.Join(arg, strconv.Itoa(os.Getpid()))
			os.WriteFile(marker, nil, 0o600)
			time.Sleep(busyFor)
			os.Remove(marker)
		}
		return n, err
	}
	mark, file, _ := strings.Cut(arg, ":")
	if mark == "" || !bytes.Contains(p[:n], []byte(mark)) {
		return n, err
	}
	switch kind {
	case "exit":
		os.Exit(3)
	case "hang":
		if f, err := os.OpenFile(file+".lock", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
			f.Close()
			os.WriteFile(file+".tmp", []byte(strconv.Itoa(os.Getpid())), 0o600)
			os.Rename(file+".tmp", file) // the test reads whole files only
			time.Sleep(time.Hour)        // killed by the test
		}
	case "hangall":
		time.Sleep(time.Hour) // killed by the pool's deadline
	}
	return n, err
}

// helperOptions returns pool options that re-execute this test binary as
// a helper serving root, with fault injected.
func helperOptions(t testing.TB, root, fault string, n int) amped.PoolOptions {
	reserve := 0
	if fault == "reserve" {
		reserve, fault = n, ""
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), envRole+"=helper", envRoot+"="+root, envFault+"="+fault)
	return amped.PoolOptions{Helpers: n, Command: []string{exe}, Env: env, Reserve: reserve}
}

// children returns the process ids of this process's children and those
// of them that are zombies.
func children(t testing.TB) (pids, zombies []int) {
	t.Helper()
	return childrenOf(t, os.Getpid())
}

// childrenOf returns the children of ppid (of any of its threads) and
// those of them that are zombies, from the parent field of /proc/*/stat.
func childrenOf(t testing.TB, ppid int) (pids, zombies []int) {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range stats {
		b, err := os.ReadFile(name)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(ppid) {
			continue
		}
		pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
		pids = append(pids, pid)
		if f[0] == "Z" {
			zombies = append(zombies, pid)
		}
	}
	return pids, zombies
}

// waitNoChildren waits until this process has no child left, zombie or
// not, and fails the test if one remains.
func waitNoChildren(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, zombies := children(t)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("children left: got %v (zombies %v), want none", pids, zombies)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testPoller is a minimal epoll loop for driving a Pool from a test
// goroutine.
type testPoller struct {
	epfd   int
	fns    map[int]func(uint32)
	timers []testTimer
}

type testTimer struct {
	at time.Time
	fn func()
}

func newTestPoller(t testing.TB) *testPoller {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(epfd) })
	return &testPoller{epfd: epfd, fns: map[int]func(uint32){}}
}

func (tp *testPoller) AddFd(fd int, events uint32, fn func(uint32)) error {
	tp.fns[fd] = fn
	return unix.EpollCtl(tp.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
}

func (tp *testPoller) RemoveFd(fd int) error {
	delete(tp.fns, fd)
	return unix.EpollCtl(tp.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

func (tp *testPoller) After(d time.Duration, fn func()) {
	tp.timers = append(tp.timers, testTimer{at: time.Now().Add(d), fn: fn})
}

// runTimers runs the timers that are due, those they add included, and
// returns how long until the next one (at most 50ms).
func (tp *testPoller) runTimers() time.Duration {
	wait := 50 * time.Millisecond
	for {
		ran := false
		for i := 0; i < len(tp.timers); i++ {
			if tm := tp.timers[i]; !time.Now().Before(tm.at) {
				tp.timers = append(tp.timers[:i], tp.timers[i+1:]...)
				tm.fn()
				ran = true
				break
			}
		}
		if !ran {
			break
		}
	}
	for _, tm := range tp.timers {
		wait = min(wait, time.Until(tm.at))
	}
	return max(wait, 0)
}

// runUntil runs the loop until cond holds, failing after timeout.
func (tp *testPoller) runUntil(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var evs [16]unix.EpollEvent
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the pool")
		}
		wait := tp.runTimers()
		if cond() {
			return
		}
		n, err := unix.EpollWait(tp.epfd, evs[:], int((wait+time.Millisecond-1)/time.Millisecond))
		if err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
		for _, ev := range evs[:max(n, 0)] {
			if fn := tp.fns[int(ev.Fd)]; fn != nil {
				fn(ev.Events)
			}
		}
	}
}
