package amped_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"flashbench/fileset"
	"flashbench/servers/amped"
	"flashbench/servers/httpcore"
	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/proctree"
)

// TestLoopNotBlocked: while a helper is stuck on one request (a disk that
// does not answer), the loop keeps serving cached files and other
// translations; once the stuck helper is killed, its job is retried on
// another helper and the request is answered correctly.
func TestLoopNotBlocked(t *testing.T) {
	dir := t.TempDir()
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 2, Count: 10, SizeBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "hung")
	s := startServer(t, httpcore.Config{Root: dir}, "hang:f000007:"+marker, 4)
	stuck := &m.Files[7]

	b, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Write([]byte("GET " + stuck.URL() + " HTTP/1.1\r\nHost: a\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	pid := waitMarker(t, marker)

	a, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	br := bufio.NewReader(a)
	for i := 0; i < 50; i++ {
		f := &m.Files[i%7] // every file but the stuck one
		resp, err := get(a, br, f.URL())
		if err != nil || resp.Status != 200 || string(resp.Body) != readFile(t, dir, f) {
			t.Fatalf("GET %s while a helper is stuck: got %v, %v; want 200 with the file", f.URL(), status(resp), err)
		}
	}
	b.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var one [1]byte
	if n, err := b.Read(one[:]); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("stuck request: got %d bytes, %v; want no answer before its helper is killed", n, err)
	}

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := conformance.ReadResponse(bufio.NewReader(b), false)
	if err != nil || resp.Status != 200 || string(resp.Body) != readFile(t, dir, stuck) {
		t.Fatalf("stuck request after the kill: got %v, %v; want 200 with the file", status(resp), err)
	}
	if st := s.amped.Stats(); st.HelperDeaths != 1 || st.JobsRetried != 1 || st.Unavailable != 0 {
		t.Errorf("stats: got %+v, want 1 death, 1 retry, no 503", st)
	}
	waitNoZombies(t)
}

// Kills under load: they go on until wantMidJob of them have caught a
// helper in the middle of a job, and fail the test if maxKills are not
// enough.
const (
	wantMidJob = 3
	maxKills   = 20
)

// TestKillUnderLoad kills helpers in the middle of a job while clients
// fetch a cold set with the pathname cache off (every request needs a
// helper, and each job takes busyFor): every response is the right file
// or a 503, every kill is counted as a death, a job whose helper died is
// retried, dead helpers are replaced, none stays a zombie.
func TestKillUnderLoad(t *testing.T) {
	dir, m := evictedSet(t, 40, 128<<10)
	busy := t.TempDir()
	s := startServer(t, httpcore.Config{Root: dir, NoPathCache: true}, "busy:"+busy, 4)
	fetchAll(t, s.addr, m, 8, false) // helpers that have served: kills are deaths, not failed starts
	type outcome struct {
		kills, midJob int
		err           error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		o.kills, o.midJob, o.err = killBusyHelpers(busy)
		done <- o
	}()
	unavailable := 0
	var o outcome
	for running := true; running; {
		unavailable += fetchAll(t, s.addr, m, 8, true)
		select {
		case o = <-done:
			running = false
		default:
		}
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	var st amped.Stats
	waitFor(t, func() bool { st = s.amped.Stats(); return st.HelperDeaths >= uint64(o.kills) })
	t.Logf("kills %d (%d in the middle of a job), 503s %d, stats %+v", o.kills, o.midJob, unavailable, st)
	if st.HelperDeaths != uint64(o.kills) || st.HelperTimeouts != 0 {
		t.Errorf("helper deaths: got %d (%d timeouts), want the %d kills", st.HelperDeaths, st.HelperTimeouts, o.kills)
	}
	// A job is retried after its first helper died, failed after its
	// second: each kill in the middle of a job did one or the other, and
	// the first such kill of a job retried it.
	if st.JobsRetried == 0 || st.JobsRetried+st.JobsFailed < uint64(o.midJob) {
		t.Errorf("jobs: got %d retried, %d failed; want at least one retried and %d in all (kills in the middle of a job)",
			st.JobsRetried, st.JobsFailed, o.midJob)
	}
	if st.HelperSpawns <= uint64(o.kills) {
		t.Errorf("helper spawns: got %d after %d kills, want the dead replaced", st.HelperSpawns, o.kills)
	}
	if st.Unavailable != uint64(unavailable) {
		t.Errorf("503 counter: got %d, want the %d the clients saw", st.Unavailable, unavailable)
	}
	waitNoZombies(t)
	// The pool still works after the kills.
	fetchAll(t, s.addr, m, 4, false)
}

// killBusyHelpers kills, one after the other, helpers that have a busy
// marker in dir (they are in the middle of a job) until wantMidJob of them
// died before finishing it: their marker is left behind. It returns the
// kills and those, or an error when maxKills or 30 s were not enough.
func killBusyHelpers(dir string) (kills, midJob int, err error) {
	deadline := time.Now().Add(30 * time.Second)
	for midJob < wantMidJob {
		if kills >= maxKills || time.Now().After(deadline) {
			return kills, midJob, fmt.Errorf("%d helpers killed, %d of them in the middle of a job; want %d", kills, midJob, wantMidJob)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) == 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		pid, err := strconv.Atoi(ents[0].Name())
		if err != nil {
			return kills, midJob, fmt.Errorf("busy marker %q: %w", ents[0].Name(), err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return kills, midJob, fmt.Errorf("kill busy helper %d: %w", pid, err)
		}
		kills++
		for !dead(pid) {
			if time.Now().After(deadline) {
				return kills, midJob, fmt.Errorf("helper %d still alive after SIGKILL", pid)
			}
			time.Sleep(time.Millisecond)
		}
		if os.Remove(filepath.Join(dir, ents[0].Name())) == nil {
			midJob++
		}
	}
	return kills, midJob, nil
}

// dead reports whether pid has exited (a zombie or reaped).
func dead(pid int) bool {
	p, err := proctree.Stat(pid)
	return err != nil || p.State == 'Z'
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return
		}
	}
}

func waitMarker(t *testing.T, name string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(name); err == nil {
			pid, err := strconv.Atoi(string(b))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no helper got the job")
	return 0
}

func waitNoZombies(t *testing.T) {
	t.Helper()
	waitNoZombiesOf(t, os.Getpid())
}

// waitNoZombiesOf waits until no child of ppid is a zombie.
func waitNoZombiesOf(t *testing.T, ppid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, zombies := childrenOf(t, ppid)
		if len(zombies) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("zombie children: got %v, want none", zombies)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readFile(t *testing.T, dir string, f *fileset.File) string {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func status(r *conformance.Response) int {
	if r == nil {
		return 0
	}
	return r.Status
}

// TestCrashingJob503: a request whose job kills every helper it reaches is
// answered 503 after one retry, and the connection goes on serving.
func TestCrashingJob503(t *testing.T) {
	dir := t.TempDir()
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 3, Count: 4, SizeBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, httpcore.Config{Root: dir}, "exit:f000003", 2)
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i, want := range []int{200, 503, 200, 503} {
		f := &m.Files[[]int{0, 3, 1, 3}[i]]
		resp, err := get(c, br, f.URL())
		if err != nil || resp.Status != want {
			t.Fatalf("GET %s: got %d, %v; want %d", f.URL(), status(resp), err, want)
		}
		if want == 200 && string(resp.Body) != readFile(t, dir, f) {
			t.Fatalf("GET %s: body differs from the file", f.URL())
		}
	}
	if st := s.amped.Stats(); st.HelperDeaths != 4 || st.JobsRetried != 2 || st.Unavailable != 2 {
		t.Errorf("stats: got %+v, want 4 deaths, 2 retries, 2 503s", st)
	}
	waitNoZombies(t)
}

// TestHelperTimeout: a request whose helper never answers is answered
// once the job's deadline passes, without anyone killing the helper: 200
// when the retry's helper answers, 503 when it hangs too. Other requests
// are served meanwhile, and the hung helpers are reaped.
func TestHelperTimeout(t *testing.T) {
	dir := t.TempDir()
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 4, Count: 4, SizeBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, fault string
		want        int
	}{
		{"retry answers", "hang:f000002:" + filepath.Join(t.TempDir(), "hung"), 200},
		{"retry hangs", "hangall:f000002", 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			popts := helperOptions(t, dir, tt.fault, 2)
			popts.Timeout = 300 * time.Millisecond
			s := startServerWith(t, httpcore.Config{Root: dir}, &popts)
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for i, f := range []*fileset.File{&m.Files[0], &m.Files[2], &m.Files[1]} {
				want := []int{200, tt.want, 200}[i]
				resp, err := get(c, br, f.URL())
				if err != nil || resp.Status != want {
					t.Fatalf("GET %s: got %d, %v; want %d", f.URL(), status(resp), err, want)
				}
				if want == 200 && string(resp.Body) != readFile(t, dir, f) {
					t.Fatalf("GET %s: body differs from the file", f.URL())
				}
			}
			st := s.amped.Stats()
			wantTimeouts := uint64(1 + tt.want/503)
			if st.HelperTimeouts != wantTimeouts || st.HelperDeaths != wantTimeouts || st.Unavailable != uint64(tt.want/503) {
				t.Errorf("stats: got %+v, want %d timeouts and as many deaths, %d 503s", st, wantTimeouts, tt.want/503)
			}
			waitNoZombies(t)
		})
	}
}
