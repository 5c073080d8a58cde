package uring_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/fileset"
	"flashbench/servers/httpcore"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
	ring "flashbench/servers/internal/uring"
	"flashbench/servers/internal/webtest"
	"flashbench/servers/uring"
)

// TestColdFileOnTheRing serves files that are neither translated yet nor
// in the page cache, each larger than one scratch read: the first request
// for a file looks its path up and reads its body in through the ring
// (one statx, two reads in flight together), the second finds both in
// memory and goes to neither. A missing file is looked up and answered
// 404.
func TestColdFileOnTheRing(t *testing.T) {
	root := t.TempDir()
	if mem, err := fileset.InMemory(root); err != nil {
		t.Fatal(err)
	} else if mem {
		t.Skipf("%s is in memory (tmpfs): nothing to evict", root)
	}
	const size = uring.ScratchSize + 300<<10
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: root, Seed: 4, Count: 2, SizeBytes: size})
	if err != nil {
		t.Fatal(err)
	}
	if err := fileset.Evict(m, root); err != nil {
		t.Fatal(err)
	}
	if resident, total, err := fileset.Resident(m, root); err != nil || resident > total/2 {
		t.Fatalf("after fileset.Evict: %d of %d bytes resident, %v; want at most half", resident, total, err)
	}
	s, addr := start(t, root)
	f0, f1 := &m.Files[0], &m.Files[1]
	steps := []struct {
		file           *fileset.File // nil: a missing file
		lookups, reads uint64
	}{
		{f0, 1, 2},
		{f0, 1, 2},
		{nil, 2, 2},
		{f1, 3, 4},
	}
	for _, st := range steps {
		path, status := "/missing", 404
		if st.file != nil {
			path, status = st.file.URL(), 200
		}
		got, body, err := webtest.Get(addr, path)
		if err != nil || got != status {
			t.Fatalf("GET %s: got %d, %v; want %d", path, got, err, status)
		}
		if st.file != nil { // read after the GET, which must find it cold
			if want, err := os.ReadFile(filepath.Join(root, st.file.Path)); err != nil || !bytes.Equal(body, want) {
				t.Fatalf("GET %s: got %d bytes, not the file's %d (%v)", path, len(body), len(want), err)
			}
		}
		c := s.Stats()
		if c.Lookups != st.lookups || c.Reads != st.reads || c.ReadBytes != st.reads/2*size || c.ReadErrors != 0 {
			t.Errorf("after GET %s: got %+v, want %d lookups, %d reads of %d bytes, no errors", path, c, st.lookups, st.reads, st.reads/2*size)
		}
	}
	if c := s.Stats(); c.MaxInFlight != 2 {
		t.Errorf("max in flight: got %d, want 2 (a file's two reads together)", c.MaxInFlight)
	}
}

// start runs a uring Server on root until the test ends. It skips only
// where the machine refuses io_uring.
func start(t *testing.T, root string) (*uring.Server, string) {
	t.Helper()
	core, err := httpcore.New(httpcore.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	lfd, addr, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := uring.New(lfd, core, httpconn.ServeOptions{})
	if errors.Is(err, ring.ErrUnavailable) {
		v, _ := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
		unix.Close(lfd)
		t.Skipf("io_uring is unavailable on this machine (kernel.io_uring_disabled = %s): %v", strings.TrimSpace(string(v)), err)
	}
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	t.Cleanup(func() {
		s.Shutdown(time.Second)
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		unix.Close(lfd)
	})
	return s, addr
}
