package amped_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"flashbench/fileset"
	"flashbench/servers/amped"
	"flashbench/servers/httpcore"
	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/stats"
	"flashbench/servers/sped"

	"golang.org/x/sys/unix"
)

// server is an architecture serving on a loopback port from this process.
type server struct {
	addr  string
	stats *stats.Counters
	amped *amped.Server // nil for sped
	stop  func()
}

// startServer starts amped (fault injected into its helpers, helpers
// bounded by n) or, when n is 0, sped, serving cfg.Root on 127.0.0.1.
// stop (also run at cleanup) stops it and checks that no helper outlives
// it.
func startServer(t testing.TB, cfg httpcore.Config, fault string, n int) *server {
	t.Helper()
	if n == 0 {
		return startServerWith(t, cfg, nil)
	}
	popts := helperOptions(t, cfg.Root, fault, n)
	return startServerWith(t, cfg, &popts)
}

// startServerWith starts amped with helpers run as popts says or, when
// popts is nil, sped.
func startServerWith(t testing.TB, cfg httpcore.Config, popts *amped.PoolOptions) *server {
	t.Helper()
	core, err := httpcore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lfd, addr, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: addr, stats: stats.New()}
	opts := httpconn.ServeOptions{Stats: s.stats}
	var run func() error
	var shutdown func(time.Duration)
	if popts == nil {
		srv, err := sped.New(lfd, core, opts)
		if err != nil {
			t.Fatal(err)
		}
		run, shutdown = srv.Run, srv.Shutdown
	} else {
		srv, err := amped.New(lfd, core, opts, *popts)
		if err != nil {
			t.Fatal(err)
		}
		s.amped, run, shutdown = srv, srv.Run, srv.Shutdown
	}
	errc := make(chan error, 1)
	go func() { errc <- run() }()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			shutdown(time.Second)
			if err := <-errc; err != nil {
				t.Errorf("server: %v", err)
			}
			unix.Close(lfd)
			core.Close()
			waitNoChildren(t)
		})
	}
	t.Cleanup(s.stop)
	return s
}

func TestConformance(t *testing.T) {
	root := conformance.Docroot(t)
	for _, tt := range []struct {
		name string
		cfg  httpcore.Config
	}{
		{"caches on", httpcore.Config{Root: root}},
		{"caches off", httpcore.Config{Root: root, NoPathCache: true, NoHeaderCache: true, NoMmapCache: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.cfg, "", 4)
			conformance.Run(t, s.addr, root)
			if st := s.amped.Stats(); st.ResolveDispatches == 0 {
				t.Errorf("resolve dispatches: got 0, want every first translation through a helper")
			}
		})
	}
}

// get fetches path over c (keep-alive) and returns the response.
func get(c net.Conn, br *bufio.Reader, path string) (*conformance.Response, error) {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", path); err != nil {
		return nil, err
	}
	return conformance.ReadResponse(br, false)
}

// fetchAll requests every file of m with clients concurrent keep-alive
// connections and checks each body against the manifest; a 503 is
// accepted when allow503 is set. It returns the number of 503s.
func fetchAll(t testing.TB, addr string, m *fileset.Manifest, clients int, allow503 bool) int {
	t.Helper()
	work := make(chan *fileset.File, len(m.Files))
	for i := range m.Files {
		work <- &m.Files[i]
	}
	close(work)
	type result struct {
		unavailable int
		err         error
	}
	results := make(chan result, clients)
	for range clients {
		go func() {
			var r result
			c, err := net.Dial("tcp", addr)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for f := range work {
				resp, err := get(c, br, f.URL())
				switch {
				case err != nil:
					r.err = fmt.Errorf("GET %s: %w", f.URL(), err)
				case resp.Status == 503 && allow503:
					r.unavailable++
				case resp.Status != 200:
					r.err = fmt.Errorf("GET %s: got status %d, want 200", f.URL(), resp.Status)
				default:
					sum := sha256.Sum256(resp.Body)
					if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
						r.err = fmt.Errorf("GET %s: got body sha256 %s (%d bytes), want %s", f.URL(), got, len(resp.Body), f.SHA256)
					}
				}
				if r.err != nil {
					break
				}
			}
			results <- r
		}()
	}
	n := 0
	for range clients {
		r := <-results
		if r.err != nil {
			t.Error(r.err)
		}
		n += r.unavailable
	}
	return n
}

// evictedSet generates count files of size bytes on a disk-backed file
// system and drops them from the page cache.
func evictedSet(t testing.TB, count int, size int64) (string, *fileset.Manifest) {
	t.Helper()
	dir := t.TempDir()
	if mem, err := fileset.InMemory(dir); err != nil {
		t.Fatal(err)
	} else if mem {
		t.Skipf("%s is in memory (tmpfs): nothing to evict", dir)
	}
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 1, Count: count, SizeBytes: size})
	if err != nil {
		t.Fatal(err)
	}
	evict(t, dir, m)
	return dir, m
}

// evict drops m's files from the page cache and checks that they left it:
// on a disk-backed file system (evictedSet skips the others) with no
// process mapping the files, the kernel drops clean pages it is advised
// to, so pages left behind are a failure of the eviction, not a limit of
// the machine.
func evict(t testing.TB, dir string, m *fileset.Manifest) {
	t.Helper()
	if err := fileset.Evict(m, dir); err != nil {
		t.Fatal(err)
	}
	resident, total, err := fileset.Resident(m, dir)
	if err != nil {
		t.Fatal(err)
	}
	if resident > total/2 {
		t.Fatalf("after fileset.Evict: got %d of %d bytes resident, want at most half", resident, total)
	}
}

// TestEvictedSet serves a set that is not in the page cache: AMPED sends
// every translation and every cold file to its helpers and returns the
// right bytes; SPED returns the same bytes with no helper at all. Each
// architecture starts after a fresh eviction (a running server's mappings
// keep pages in memory whatever the advice).
func TestEvictedSet(t *testing.T) {
	dir, m := evictedSet(t, 200, 256<<10)
	t.Run("amped", func(t *testing.T) {
		s := startServer(t, httpcore.Config{Root: dir}, "", amped.DefaultHelpers)
		fetchAll(t, s.addr, m, 16, false)
		st := s.amped.Stats()
		// One round trip per cold file: the resolve job reads the file too,
		// so page-ins are left for data evicted again since.
		if st.ResolveDispatches < uint64(len(m.Files)) || st.ResolveReads != st.ResolveDispatches ||
			st.PageInDispatches > uint64(len(m.Files))/4 {
			t.Errorf("dispatches: got %+v, want a reading resolve per file and few page-ins", st)
		}
		if got := s.stats.HelperDispatches.Load(); got != st.Dispatches() {
			t.Errorf("loop counter helper dispatches: got %d, want %d", got, st.Dispatches())
		}
		if st.HelperDeaths != 0 || st.Unavailable != 0 {
			t.Errorf("stats: got %+v, want no deaths, no 503", st)
		}
	})
	t.Run("sped", func(t *testing.T) {
		evict(t, dir, m)
		s := startServer(t, httpcore.Config{Root: dir}, "", 0)
		fetchAll(t, s.addr, m, 16, false)
		if got := s.stats.HelperDispatches.Load(); got != 0 {
			t.Errorf("sped helper dispatches: got %d, want 0", got)
		}
	})
}
