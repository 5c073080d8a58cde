package cgi_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"flashbench/cgi-apps/content"
)

// archs are every architecture, with the CGI data path each uses.
var archs = []struct {
	name     string
	args     []string
	baseline bool
}{
	{"sped", []string{"--arch", "sped"}, false},
	{"amped", []string{"--arch", "amped"}, false},
	{"flashlite", []string{"--arch", "flashlite"}, false}, // shared memory by default
	{"flashlite-pipes", []string{"--arch", "flashlite", "--cgi-shared-memory=false"}, false},
	{"sped-shm", []string{"--arch", "sped", "--cgi-shared-memory"}, false},
	{"uring", []string{"--arch", "uring"}, false},
	{"uring-shm", []string{"--arch", "uring", "--cgi-shared-memory"}, false}, // kept bodies by sendmsg too
	{"forking", []string{"--arch", "forking"}, false},
	{"prefork", []string{"--arch", "prefork", "--workers", "2"}, false},
	{"threaded", []string{"--arch", "threaded"}, false},
	{"nethttp", []string{"--arch", "nethttp"}, true},
	{"fasthttp", []string{"--arch", "fasthttp"}, true},
}

// TestConformance runs the CGI cases against every architecture: the
// same bodies, byte for byte, and the same refusals.
func TestConformance(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB: larger than a pipe's default buffer
	for _, a := range archs {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			s, _ := start(t, a.args...)
			for _, n := range []int{0, 1, 500, 4096, 51200, 204800} {
				r, err := do(s.Addr, "GET", "/cgi-bin/dyn?size="+strconv.Itoa(n), nil, "")
				if err != nil {
					t.Fatalf("dyn size %d: %v", n, err)
				}
				if r.status != 200 || !bytes.Equal(r.body, content.Dyn(n)) || r.header.Get("Content-Type") != "text/plain" {
					t.Errorf("dyn size %d: got status %d, %d bytes (equal %v), type %q; want 200, the pattern, text/plain",
						n, r.status, len(r.body), bytes.Equal(r.body, content.Dyn(n)), r.header.Get("Content-Type"))
				}
			}
			r, err := do(s.Addr, "POST", "/cgi-bin/dyn", big, "")
			if err != nil || r.status != 200 || !bytes.Equal(r.body, big) {
				t.Errorf("POST echo of %d bytes: got %d, %d bytes, %v; want 200 and the body", len(big), r.status, len(r.body), err)
			}
			r, err = do(s.Addr, "HEAD", "/cgi-bin/dyn?size=51200", nil, "")
			if err != nil || r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Length") != "51200" {
				t.Errorf("HEAD: got %d, %d body bytes, Content-Length %q, %v; want 200, none, 51200", r.status, len(r.body), r.header.Get("Content-Length"), err)
			}
			refusals := []struct {
				method, target string
				body           []byte
				want           int
			}{
				{"GET", "/cgi-bin/missing", nil, 404},
				{"GET", "/cgi-bin/noexec", nil, 404},
				{"GET", "/cgi-bin/..%2f..%2fbin%2fsh", nil, 404},
				{"GET", "/cgi-bin/%2e%2e", nil, 404},
				{"POST", "/cgi-bin/dyn", make([]byte, 1<<20+1), 413},
			}
			if !a.baseline { // net/http and fasthttp clean such paths their own way
				refusals = append(refusals, struct {
					method, target string
					body           []byte
					want           int
				}{"GET", "/cgi-bin/../cgi-bin/dyn", nil, 404})
			}
			for _, rf := range refusals {
				r, err := do(s.Addr, rf.method, rf.target, rf.body, "")
				if a.baseline && err == nil && r.status >= 400 && r.status < 500 {
					continue // a baseline refuses in its own way (fasthttp cleans "%2e%2e" away: 403)
				}
				if err != nil || r.status != rf.want {
					t.Errorf("%s %s: got %d, %v; want %d", rf.method, rf.target, r.status, err, rf.want)
				}
			}
		})
	}
}

// TestClassic runs the CGI/1.1 program, one process per request, under
// the process architectures.
func TestClassic(t *testing.T) {
	for _, arch := range []string{"forking", "prefork"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			s, _ := start(t, "--arch", arch, "--cgi-classic")
			r, err := do(s.Addr, "GET", "/cgi-bin/classic?size=51200", nil, "")
			if err != nil || r.status != 200 || !bytes.Equal(r.body, content.Dyn(51200)) {
				t.Errorf("classic size 51200: got %d, %d bytes, %v", r.status, len(r.body), err)
			}
			r, err = do(s.Addr, "POST", "/cgi-bin/classic", []byte("posted"), "")
			if err != nil || r.status != 200 || string(r.body) != "posted" {
				t.Errorf("classic POST: got %d, %q, %v; want 200, \"posted\"", r.status, r.body, err)
			}
			r, err = do(s.Addr, "GET", "/cgi-bin/classic?size=x", nil, "")
			if err != nil || r.status != 400 {
				t.Errorf("classic bad size: got %d, %v; want 400", r.status, err)
			}
		})
	}
}

// TestHang: a program that does not answer is killed after --cgi-timeout
// and its request answered 504; the next request gets a new process.
func TestHang(t *testing.T) {
	for _, arch := range []string{"amped", "uring", "threaded"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			s, _ := start(t, "--arch", arch, "--cgi-timeout", "300ms", "--cgi-procs", "1")
			r, err := do(s.Addr, "GET", "/cgi-bin/helper?hang=1", nil, "")
			if err != nil || r.status != 504 {
				t.Fatalf("hung program: got %d, %v; want 504", r.status, err)
			}
			r, err = do(s.Addr, "GET", "/cgi-bin/helper?size=100", nil, "")
			if err != nil || r.status != 200 || !bytes.Equal(r.body, content.Dyn(100)) {
				t.Fatalf("after the hang: got %d, %v; want 200", r.status, err)
			}
			r, err = do(s.Addr, "GET", "/cgi-bin/helper?crash=1", nil, "")
			if err != nil || r.status != 502 {
				t.Fatalf("crashing program: got %d, %v; want 502", r.status, err)
			}
			waitNoZombies(t, s.Pid())
		})
	}
}

// TestKillUnderLoad kills CGI processes while many requests are in
// flight: only the requests those processes held fail (502), every other
// body is exact, service goes on, and nothing is left a zombie.
func TestKillUnderLoad(t *testing.T) {
	for _, a := range []struct{ name, arch string }{{"amped", "amped"}, {"uring", "uring"}, {"threaded", "threaded"}, {"flashlite-shm", "flashlite"}} {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			s, _ := start(t, "--arch", a.arch, "--cgi-procs", "3")
			want := content.Dyn(20000)
			var ok, bad502, other atomic.Int64
			var wg sync.WaitGroup
			stop := make(chan struct{})
			const clients = 6
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						r, err := do(s.Addr, "GET", "/cgi-bin/helper?size=20000&delay=5ms", nil, "")
						switch {
						case err == nil && r.status == 200 && bytes.Equal(r.body, want):
							ok.Add(1)
						case err == nil && r.status == 502:
							bad502.Add(1)
						default:
							other.Add(1)
							t.Errorf("request: got %d, %d bytes, %v", r.status, len(r.body), err)
						}
					}
				}()
			}
			kills := 0
			deadline := time.Now().Add(10 * time.Second)
			for kills < 3 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				pids := children(t, s.Pid(), "cgi.test")
				if len(pids) == 0 {
					continue
				}
				if syscall.Kill(pids[0], syscall.SIGKILL) == nil {
					kills++
				}
			}
			time.Sleep(200 * time.Millisecond)
			close(stop)
			wg.Wait()
			if kills == 0 {
				t.Fatal("no CGI process to kill")
			}
			// A process may hold several requests (Options.Depth), but only
			// the oldest fails with it: the GETs behind it run again.
			if n := bad502.Load(); n > int64(kills) {
				t.Errorf("got %d answers 502 for %d killed processes, want at most one each", n, kills)
			}
			r, err := do(s.Addr, "GET", "/cgi-bin/helper?size=20000", nil, "")
			if err != nil || r.status != 200 || !bytes.Equal(r.body, want) {
				t.Errorf("after the kills: got %d, %v; want 200", r.status, err)
			}
			if ok.Load() == 0 || other.Load() != 0 {
				t.Errorf("got %d good answers and %d others, want some and none", ok.Load(), other.Load())
			}
			waitNoZombies(t, s.Pid())
		})
	}
}

// waitNoZombies fails when pid keeps zombie children: reaping is
// asynchronous, so it gives the server a few seconds.
func waitNoZombies(t *testing.T, pid int) {
	t.Helper()
	var z []string
	for range 50 {
		if z = zombies(t, pid); len(z) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("zombie children of %d: %s", pid, strings.Join(z, " "))
}

// TestSharedMemoryImmutable fetches many large CGI responses from a tiny
// shared-memory pool, which forces buffer reuse all the time, together
// with static files, through slow readers: a buffer rewritten while its
// pages are still in flight would corrupt a body. Bodies written for one
// response leave with writev and are reused in place once released; kept
// bodies (cache=1) leave by reference with sendfile, and are evicted
// from the program's small cache and their ranges reused while slow
// readers still hold their pages in socket queues, which only detaching
// the pages makes safe. Over pipes (amped) the server's read buffers,
// which the bodies alias until they are sent, are reused the same way.
func TestSharedMemoryImmutable(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"flashlite", []string{"--arch", "flashlite", "--cgi-pool-bytes", "262144", "--cgi-procs", "2"}},
		{"amped-pipes", []string{"--arch", "amped", "--cgi-procs", "2"}},
		{"uring-pipes", []string{"--arch", "uring", "--cgi-procs", "2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, static := start(t, tt.args...)
			immutableLoad(t, s.Addr, static)
		})
	}
}

func immutableLoad(t *testing.T, addr string, static []byte) {
	sizes := []int{51200, 100000, 120000, 65536, 204800 - 4096, 12288}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 12 {
				target, want := "/f50k", static
				if (w+i)%4 != 0 {
					n := sizes[(w*7+i)%len(sizes)]
					target, want = "/cgi-bin/helper?size="+strconv.Itoa(n), content.Dyn(n)
					if (w+i)%2 == 1 {
						target += "&cache=1"
					}
				}
				r, err := slowGet(addr, target, w%3 == 0)
				if err != nil || r.status != 200 || !bytes.Equal(r.body, want) {
					errs <- fmt.Errorf("%s: got %d, %d bytes (exact %v), %v", target, r.status, len(r.body), bytes.Equal(r.body, want), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestDataPath checks from the server's own counters which path CGI
// bodies took: through shared memory without a user-level copy
// (flashlite's default, or --cgi-shared-memory), or through the pipes,
// where the server reads every body byte.
func TestDataPath(t *testing.T) {
	const n, reqs = 51200, 5
	for _, tt := range []struct {
		name   string
		args   []string
		shared bool
	}{
		{"flashlite", []string{"--arch", "flashlite"}, true},
		{"flashlite-pipes", []string{"--arch", "flashlite", "--cgi-shared-memory=false"}, false},
		{"amped", []string{"--arch", "amped"}, false},
		{"amped-shm", []string{"--arch", "amped", "--cgi-shared-memory"}, true},
		{"uring", []string{"--arch", "uring"}, false},
		{"uring-shm", []string{"--arch", "uring", "--cgi-shared-memory"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			statsFile := filepath.Join(t.TempDir(), "stats.json")
			s, _ := start(t, append(tt.args, "--stats-file", statsFile)...)
			for range reqs {
				r, err := do(s.Addr, "GET", "/cgi-bin/dyn?size="+strconv.Itoa(n), nil, "")
				if err != nil || r.status != 200 || !bytes.Equal(r.body, content.Dyn(n)) {
					t.Fatalf("GET: got %d, %d bytes, %v; want 200 and the pattern", r.status, len(r.body), err)
				}
			}
			if err := s.Stop(30 * time.Second); err != nil {
				t.Fatalf("stop: %v", err)
			}
			var snap struct {
				UserCopyBytes uint64 `json:"user_copy_bytes"`
				CGI           struct {
					Shared uint64 `json:"shared_memory_responses"`
				} `json:"cgi"`
			}
			readStats(t, statsFile, &snap)
			wantShared, wantCopy := uint64(0), uint64(reqs*n)
			if tt.shared {
				wantShared, wantCopy = reqs, 0
			}
			if snap.CGI.Shared != wantShared || snap.UserCopyBytes != wantCopy {
				t.Errorf("got %d shared-memory responses, %d user copy bytes; want %d, %d",
					snap.CGI.Shared, snap.UserCopyBytes, wantShared, wantCopy)
			}
		})
	}
}
