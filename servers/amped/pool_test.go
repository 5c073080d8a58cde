package amped_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/amped"
)

type outcome struct {
	errno syscall.Errno
	err   error
	done  bool
}

// submit queues req and returns where its outcome will land.
func submit(p *amped.Pool, req amped.Request) *outcome {
	o := &outcome{}
	p.Submit(req, func(errno syscall.Errno, err error) {
		if o.done {
			panic("done called twice")
		}
		o.errno, o.err, o.done = errno, err, true
	})
	return o
}

func allDone(os []*outcome) func() bool {
	return func() bool {
		for _, o := range os {
			if !o.done {
				return false
			}
		}
		return true
	}
}

func newPool(t *testing.T, root, fault string, n int) (*amped.Pool, *testPoller) {
	t.Helper()
	tp := newTestPoller(t)
	p, err := amped.NewPool(tp, helperOptions(t, root, fault, n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		waitNoChildren(t)
	})
	return p, tp
}

func testRoot(t *testing.T) string {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte(strings.Repeat("flashbench\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestPoolJobs(t *testing.T) {
	root := testRoot(t)
	p, tp := newPool(t, root, "", 4)
	tests := []struct {
		name string
		req  amped.Request
		want syscall.Errno
	}{
		{"resolve file", amped.Request{Kind: amped.KindResolve, Path: "/a.txt"}, 0},
		{"resolve escaped", amped.Request{Kind: amped.KindResolve, Path: "/%61.txt"}, 0},
		{"resolve missing", amped.Request{Kind: amped.KindResolve, Path: "/nope"}, syscall.ENOENT},
		{"resolve dir without index", amped.Request{Kind: amped.KindResolve, Path: "/empty/"}, syscall.EACCES},
		{"resolve above root", amped.Request{Kind: amped.KindResolve, Path: "/../a.txt"}, syscall.EINVAL},
		{"resolve and read", amped.Request{Kind: amped.KindResolve, Path: "/a.txt", Length: amped.MaxResolveRead}, 0},
		{"resolve missing and read", amped.Request{Kind: amped.KindResolve, Path: "/nope", Length: 1}, syscall.ENOENT},
		{"page-in", amped.Request{Kind: amped.KindPageIn, Path: "a.txt", Offset: 0, Length: 11000}, 0},
		{"page-in past end", amped.Request{Kind: amped.KindPageIn, Path: "a.txt", Offset: 1 << 20, Length: 4096}, 0},
		{"page-in range beyond end", amped.Request{Kind: amped.KindPageIn, Path: "a.txt", Offset: 4096, Length: 1 << 30}, 0},
		{"page-in missing", amped.Request{Kind: amped.KindPageIn, Path: "nope", Length: 1}, syscall.ENOENT},
		{"page-in escaping", amped.Request{Kind: amped.KindPageIn, Path: "../x", Length: 1}, syscall.EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := submit(p, tt.req)
			tp.runUntil(t, 30*time.Second, allDone([]*outcome{o}))
			if o.err != nil || o.errno != tt.want {
				t.Errorf("job %+v: got errno %v, err %v; want errno %v, no error", tt.req, o.errno, o.err, tt.want)
			}
		})
	}
	// One job at a time: the first helper is reused from the reserve.
	if s := p.Stats(); s.HelperSpawns != 1 || s.ResolveDispatches != 7 || s.ResolveReads != 2 || s.PageInDispatches != 5 {
		t.Errorf("stats: got %+v, want 1 spawn, 7 resolves (2 reading), 5 page-ins", s)
	}
}

func TestPoolBound(t *testing.T) {
	root := testRoot(t)
	p, tp := newPool(t, root, "", 3)
	var os []*outcome
	for i := 0; i < 12; i++ {
		os = append(os, submit(p, amped.Request{Kind: amped.KindPageIn, Path: "a.txt", Offset: int64(i) * 100, Length: 100}))
	}
	if n := len(p.Helpers()); n != 3 {
		t.Errorf("helpers after 12 jobs at once: got %d, want the bound, 3", n)
	}
	tp.runUntil(t, 30*time.Second, allDone(os))
	for i, o := range os {
		if o.err != nil || o.errno != 0 {
			t.Errorf("job %d: got errno %v, err %v; want success", i, o.errno, o.err)
		}
	}
	if s := p.Stats(); s.HelperSpawns != 3 {
		t.Errorf("spawns: got %d, want 3", s.HelperSpawns)
	}
}

// TestPoolCoalesce: jobs asking for the same work while one is queued or
// in flight share its outcome and take no helper of their own; once it
// has completed, the same work is sent again.
func TestPoolCoalesce(t *testing.T) {
	root := testRoot(t)
	p, tp := newPool(t, root, "", 3)
	same := amped.Request{Kind: amped.KindResolve, Path: "/a.txt", Length: amped.MaxResolveRead}
	var os []*outcome
	for i := 0; i < 8; i++ {
		os = append(os, submit(p, same))
	}
	missing := submit(p, amped.Request{Kind: amped.KindResolve, Path: "/nope"})
	tp.runUntil(t, 30*time.Second, allDone(append(os, missing)))
	for i, o := range os {
		if o.err != nil || o.errno != 0 {
			t.Errorf("job %d: got errno %v, err %v; want success", i, o.errno, o.err)
		}
	}
	if missing.errno != syscall.ENOENT {
		t.Errorf("other job: got errno %v, err %v; want ENOENT", missing.errno, missing.err)
	}
	if s := p.Stats(); s.ResolveDispatches != 2 || s.JobsCoalesced != 7 {
		t.Errorf("stats: got %+v, want 2 resolves sent, 7 coalesced", s)
	}
	again := submit(p, same)
	tp.runUntil(t, 30*time.Second, allDone([]*outcome{again}))
	if s := p.Stats(); again.err != nil || s.ResolveDispatches != 3 || s.JobsCoalesced != 7 {
		t.Errorf("same job after completion: got err %v, stats %+v; want success, 3 resolves sent, 7 coalesced", again.err, s)
	}
}

// TestPoolCrash: a job that kills every helper it reaches is tried twice,
// then fails; the pool replaces the dead helpers for the next job.
func TestPoolCrash(t *testing.T) {
	root := testRoot(t)
	p, tp := newPool(t, root, "exit:crash", 2)
	bad := submit(p, amped.Request{Kind: amped.KindResolve, Path: "/crash"})
	good := submit(p, amped.Request{Kind: amped.KindResolve, Path: "/a.txt"})
	tp.runUntil(t, 30*time.Second, allDone([]*outcome{bad, good}))
	if !errors.Is(bad.err, amped.ErrHelperFailed) {
		t.Errorf("crashing job: got %v, want ErrHelperFailed", bad.err)
	}
	if good.err != nil || good.errno != 0 {
		t.Errorf("job beside it: got errno %v, err %v; want success", good.errno, good.err)
	}
	s := p.Stats()
	if s.HelperDeaths != 2 || s.JobsRetried != 1 || s.JobsFailed != 1 {
		t.Errorf("stats: got %+v, want 2 deaths, 1 retry, 1 failure", s)
	}
	after := submit(p, amped.Request{Kind: amped.KindPageIn, Path: "a.txt", Length: 10})
	tp.runUntil(t, 30*time.Second, allDone([]*outcome{after}))
	if after.err != nil {
		t.Errorf("job after the crashes: got %v, want success", after.err)
	}
}

// TestPoolKill: a helper killed with SIGKILL in the middle of a job is
// reaped and the job completes on another helper.
func TestPoolKill(t *testing.T) {
	root := testRoot(t)
	marker := filepath.Join(t.TempDir(), "hung")
	p, tp := newPool(t, root, "hang:slow:"+marker, 2)
	o := submit(p, amped.Request{Kind: amped.KindResolve, Path: "/slow"})
	tp.runUntil(t, 30*time.Second, func() bool { _, err := os.Stat(marker); return err == nil })
	if b, _ := os.ReadFile(marker); string(b) != strconv.Itoa(p.Helpers()[0]) {
		t.Fatalf("hung helper: got pid %s, want %v", b, p.Helpers())
	}
	pids := p.Helpers()
	if len(pids) != 1 {
		t.Fatalf("helpers: got %v, want one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	tp.runUntil(t, 30*time.Second, allDone([]*outcome{o}))
	if o.err != nil || o.errno != syscall.ENOENT {
		t.Errorf("job retried after the kill: got errno %v, err %v; want ENOENT", o.errno, o.err)
	}
	if s := p.Stats(); s.HelperDeaths != 1 || s.JobsRetried != 1 || s.JobsFailed != 0 {
		t.Errorf("stats: got %+v, want 1 death, 1 retry, no failure", s)
	}
	// The killed helper is reaped without waiting for Close.
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, zombies := children(t)
		if len(zombies) == 0 && len(pids) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("children: got %v (zombies %v), want the one live helper", pids, zombies)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
