package httpcore_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/httpcore"
)

// leaseState returns the state /proc/locks shows for the lease on path
// ("ACTIVE", "BREAKING"), or "" when there is none.
func leaseState(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ino := fmt.Sprintf(":%d ", fi.Sys().(*syscall.Stat_t).Ino)
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(locks), "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == "LEASE" && strings.Contains(line, ino) {
			return f[2]
		}
	}
	return ""
}

// needLeases skips a test on a kernel with leases turned off: the files
// are then sent as mapped chunks, which other tests cover.
func needLeases(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/fs/leases-enable"); err == nil && strings.TrimSpace(string(b)) == "0" {
		t.Skip("file leases are disabled (/proc/sys/fs/leases-enable is 0)")
	}
}

// TestLeaseOpen checks what Config.Lease plans: a file range of a leased
// file, and 503 for a file someone has open for writing, which is not
// cached, so that the request after the writer is gone gets its lease.
func TestLeaseOpen(t *testing.T) {
	needLeases(t)
	tests := []struct {
		name       string
		writer     bool // a writer holds the file open during the first request
		wantStatus int
	}{
		{"leased", false, 200},
		{"open for writing", true, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			path := writeFile(t, root, "f.bin", []byte("leased bytes"))
			c := newCore(t, httpcore.Config{Root: root, SendFile: true, Lease: true})
			if tt.writer {
				w, err := os.OpenFile(path, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				r := do(t, c, get("/f.bin"))
				w.Close()
				if r.status != tt.wantStatus {
					t.Fatalf("with a writer: got %d, want %d", r.status, tt.wantStatus)
				}
				if got := c.Stats().LeaseBusy; got != 1 {
					t.Errorf("LeaseBusy: got %d, want 1", got)
				}
			}
			var p httpcore.Plan
			c.Respond(get("/f.bin"), &p)
			defer p.Release()
			if p.Status != 200 || p.Kind != httpcore.BodyFile || !p.File.Leased() {
				t.Fatalf("got %d, kind %d, leased %v; want 200, a leased file range", p.Status, p.Kind, p.Kind == httpcore.BodyFile && p.File.Leased())
			}
			if got := leaseState(t, path); got != "ACTIVE" {
				t.Errorf("/proc/locks: got lease %q, want ACTIVE", got)
			}
			if r := readPlan(t, &p); string(r.body) != "leased bytes" {
				t.Errorf("body: got %q, want %q", r.body, "leased bytes")
			}
		})
	}
}

// truncateHeld truncates path to size from another goroutine and waits
// until the lease of a planned file holds the truncate off (/proc/locks
// shows it breaking). The channel gets the truncate's result.
func truncateHeld(t *testing.T, path string, size int64) <-chan error {
	t.Helper()
	truncated := make(chan error, 1)
	go func() { truncated <- os.Truncate(path, size) }()
	for leaseState(t, path) != "BREAKING" {
		select {
		case err := <-truncated:
			t.Fatalf("truncate returned (%v) under a planned, leased file", err)
		case <-time.After(time.Millisecond):
		}
	}
	return truncated
}

// TestLeaseBreak truncates a leased file that a Plan still sends: the
// truncate waits; BrokenLeases hands the file over, stale, and drops it
// from the pathname cache; the truncate proceeds once the Plan and the
// handed-over reference are released; the next request opens the new
// version.
func TestLeaseBreak(t *testing.T) {
	needLeases(t)
	root := t.TempDir()
	path := writeFile(t, root, "f.bin", []byte("0123456789"))
	c := newCore(t, httpcore.Config{Root: root, SendFile: true, Lease: true})
	var p httpcore.Plan
	c.Respond(get("/f.bin"), &p)
	if p.Kind != httpcore.BodyFile {
		t.Fatalf("got kind %d, want a file range", p.Kind)
	}
	truncated := truncateHeld(t, path, 4)
	broken := c.BrokenLeases(nil)
	if len(broken) != 1 || broken[0] != p.File || !p.File.Stale() {
		t.Fatalf("BrokenLeases: got %d files, want the planned one, stale", len(broken))
	}
	if again := c.BrokenLeases(nil); len(again) != 0 {
		t.Errorf("BrokenLeases again: got %d files, want none", len(again))
	}
	if _, ok := c.CachedFile([]byte("/f.bin")); ok {
		t.Error("CachedFile: got the stale file, want a miss")
	}
	p.Release()
	select {
	case err := <-truncated:
		t.Fatalf("truncate returned (%v) while a reference was held", err)
	default:
	}
	broken[0].Release()
	if err := <-truncated; err != nil {
		t.Fatalf("truncate: %v", err)
	}
	if r := do(t, c, get("/f.bin")); r.status != 200 || string(r.body) != "0123" {
		t.Errorf("next request: got %d %q, want 200 %q", r.status, r.body, "0123")
	}
	if got := c.Stats().LeaseBreaks; got != 1 {
		t.Errorf("LeaseBreaks: got %d, want 1", got)
	}
}

// TestLeaseRetire evicts a leased file from the pathname cache: it stays
// open with its lease until RetiredLeases hands it over and that
// reference is released.
func TestLeaseRetire(t *testing.T) {
	needLeases(t)
	root := t.TempDir()
	a := writeFile(t, root, "a.bin", []byte("a"))
	writeFile(t, root, "b.bin", []byte("b"))
	c := newCore(t, httpcore.Config{Root: root, SendFile: true, Lease: true, PathCacheEntries: 1})
	do(t, c, get("/a.bin"))
	do(t, c, get("/b.bin")) // evicts a.bin, whose last reference goes
	if got := leaseState(t, a); got != "ACTIVE" {
		t.Fatalf("evicted a.bin: got lease %q, want ACTIVE until it is drained", got)
	}
	retired := c.RetiredLeases(nil)
	if len(retired) != 1 || !retired[0].Stale() || filepath.Base(retired[0].Name()) != "a.bin" {
		t.Fatalf("RetiredLeases: got %d files, want a.bin, stale", len(retired))
	}
	retired[0].Release()
	if got := leaseState(t, a); got != "" {
		t.Errorf("released a.bin: got lease %q, want none (closed)", got)
	}
}

// TestLeaseMapped checks leases on mapped bodies (no SendFile): a mapped
// Plan holds its leased File, so that a truncation waits until the Plan
// is released; the file is not retired on its last release but closed
// with its lease given up, although the mapped-file cache still maps it
// (a mapping keeps the open file, and the lease with it, alive past the
// close of the descriptor); and a truncation of a file no Plan sends
// proceeds at once.
func TestLeaseMapped(t *testing.T) {
	needLeases(t)
	root := t.TempDir()
	path := writeFile(t, root, "f.bin", []byte("0123456789"))
	c := newCore(t, httpcore.Config{Root: root, Lease: true, PathCacheEntries: 1})
	var p httpcore.Plan
	c.Respond(get("/f.bin"), &p)
	if p.Kind != httpcore.BodyMapped || p.File == nil || !p.File.Leased() {
		t.Fatalf("got kind %d, file %v; want mapped chunks with their leased file", p.Kind, p.File != nil)
	}
	truncated := truncateHeld(t, path, 4)
	broken := c.BrokenLeases(nil)
	if len(broken) != 1 || broken[0] != p.File || !p.File.Stale() {
		t.Fatalf("BrokenLeases: got %d files, want the planned one, stale", len(broken))
	}
	broken[0].Release()
	select {
	case err := <-truncated:
		t.Fatalf("truncate returned (%v) while the Plan was held", err)
	default:
	}
	p.Release()
	if err := <-truncated; err != nil {
		t.Fatalf("truncate: %v", err)
	}
	if r := do(t, c, get("/f.bin")); r.status != 200 || string(r.body) != "0123" {
		t.Errorf("next request: got %d %q, want 200 %q", r.status, r.body, "0123")
	}

	writeFile(t, root, "g.bin", []byte("g"))
	do(t, c, get("/g.bin")) // evicts f.bin from the pathname cache, not its chunk
	if st := c.Stats(); st.MappedBytes == 0 {
		t.Fatal("no chunk mapped: the test needs the mapped-file cache to keep one")
	}
	if got := leaseState(t, path); got != "" {
		t.Errorf("evicted f.bin: got lease %q, want none (closed, lease given up)", got)
	}
	if err := os.Truncate(path, 2); err != nil {
		t.Fatalf("truncate after the last release: %v", err)
	}
	if retired := c.RetiredLeases(nil); len(retired) != 0 {
		t.Errorf("RetiredLeases: got %d files, want none (mapped files are not retired)", len(retired))
	}
}
