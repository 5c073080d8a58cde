package amped_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/amped"
)

// newPoolWith is newPool with the options adjusted by adjust.
func newPoolWith(t *testing.T, root, fault string, n int, adjust func(*amped.PoolOptions)) (*amped.Pool, *testPoller) {
	t.Helper()
	tp := newTestPoller(t)
	opts := helperOptions(t, root, fault, n)
	adjust(&opts)
	p, err := amped.NewPool(tp, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		waitNoChildren(t)
	})
	return p, tp
}

// TestPoolTimeout: a job whose helper never answers is taken away from it
// at the deadline: the helper is killed and reaped, and the job retried
// once (it completes if the next helper answers) or failed.
func TestPoolTimeout(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "hung")
	tests := []struct {
		name    string
		fault   string
		wantErr error
		want    amped.Stats // the counters checked
	}{
		{"first helper hangs", "hang:slow:" + marker, nil,
			amped.Stats{HelperTimeouts: 1, HelperDeaths: 1, JobsRetried: 1}},
		{"every helper hangs", "hangall:slow", amped.ErrHelperFailed,
			amped.Stats{HelperTimeouts: 2, HelperDeaths: 2, JobsRetried: 1, JobsFailed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tp := newPoolWith(t, testRoot(t), tt.fault, 2, func(o *amped.PoolOptions) { o.Timeout = 300 * time.Millisecond })
			o := submit(p, amped.Request{Kind: amped.KindResolve, Path: "/slow"})
			tp.runUntil(t, 30*time.Second, allDone([]*outcome{o}))
			if !errors.Is(o.err, tt.wantErr) || (tt.wantErr == nil && o.errno != syscall.ENOENT) {
				t.Errorf("job past its deadline: got errno %v, err %v; want err %v (ENOENT on success)", o.errno, o.err, tt.wantErr)
			}
			got := p.Stats()
			if got.HelperTimeouts != tt.want.HelperTimeouts || got.HelperDeaths != tt.want.HelperDeaths ||
				got.JobsRetried != tt.want.JobsRetried || got.JobsFailed != tt.want.JobsFailed {
				t.Errorf("stats: got %+v, want timeouts, deaths, retries, failures as in %+v", got, tt.want)
			}
			if tt.wantErr == nil {
				b, err := os.ReadFile(marker)
				if err != nil {
					t.Fatal(err)
				}
				pid, _ := strconv.Atoi(string(b))
				waitGone(t, pid)
			}
		})
	}
}

// waitGone waits until pid is neither running nor a zombie child.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("helper %d: still there (running or a zombie), want killed and reaped", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPoolStartBackoff: helpers that exit as soon as they start are not
// replaced one per job: after a few deaths in a row the pool waits longer
// and longer before the next spawn and fails jobs at once meanwhile. Once
// helpers can start again, a job succeeds.
func TestPoolStartBackoff(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken")
	if err := os.WriteFile(broken, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p, tp := newPool(t, testRoot(t), "start:"+broken, 4)
	const jobs = 100
	for i := range jobs {
		o := submit(p, amped.Request{Kind: amped.KindResolve, Path: "/a.txt"})
		tp.runUntil(t, 30*time.Second, allDone([]*outcome{o}))
		if !errors.Is(o.err, amped.ErrHelperFailed) && !errors.Is(o.err, amped.ErrHelperStart) {
			t.Fatalf("job %d with helpers that cannot start: got errno %v, err %v; want ErrHelperFailed or ErrHelperStart", i, o.errno, o.err)
		}
	}
	st := p.Stats()
	t.Logf("after %d jobs: %+v", jobs, st)
	if st.HelperSpawns == 0 || st.HelperSpawns >= jobs/4 {
		t.Errorf("spawns for %d jobs: got %d, want a few, far fewer than the jobs", jobs, st.HelperSpawns)
	}
	if st.StartFailures != st.HelperSpawns || st.JobsFailed != jobs {
		t.Errorf("stats: got %+v, want a start failure per spawn and %d failed jobs", st, jobs)
	}

	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	// The next spawn comes once the backoff (at most a second) has run.
	deadline := time.Now().Add(30 * time.Second)
	for {
		o := submit(p, amped.Request{Kind: amped.KindResolve, Path: "/a.txt"})
		tp.runUntil(t, 30*time.Second, allDone([]*outcome{o}))
		if o.err == nil && o.errno == 0 {
			break
		}
		if !errors.Is(o.err, amped.ErrHelperStart) || time.Now().After(deadline) {
			t.Fatalf("job once helpers can start: got errno %v, err %v; want success (ErrHelperStart until the backoff ends)", o.errno, o.err)
		}
		tp.runUntil(t, 30*time.Second, sleepFor(20*time.Millisecond))
	}
}

// sleepFor returns a condition that holds once d has passed.
func sleepFor(d time.Duration) func() bool {
	end := time.Now().Add(d)
	return func() bool { return !time.Now().Before(end) }
}
