package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/fileset"
	"flashbench/servers/httpcore/conformance"
)

// TestFlashliteConformance runs the conformance suite against flashlite,
// whose file bodies leave by sendfile rather than from mappings.
func TestFlashliteConformance(t *testing.T) {
	root := conformance.Docroot(t)
	s := startServer(t, "--arch", "flashlite", "--root", root)
	conformance.Run(t, s.addr, root)
}

// TestFlashliteEvicted serves a file set dropped from the page cache: every
// body must be exact, and the non-resident ranges must have gone to helpers
// (the residency test of a sendfile body is cachestat, not mincore).
func TestFlashliteEvicted(t *testing.T) {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skip("the temporary directory is on tmpfs, whose pages cannot be evicted")
	}
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 3, SizeBytes: 256 << 10, Count: 24})
	if err != nil {
		t.Fatal(err)
	}
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	s := startServer(t, "--arch", "flashlite", "--root", dir, "--stats-file", statsFile)
	c := dial(t, s.addr)
	r := bufio.NewReader(c)
	// HEAD puts every path in the pathname cache without reading data, so
	// the GETs below find their translations cached and only the data cold.
	for _, f := range m.Files {
		c.SetDeadline(time.Now().Add(conformance.Timeout))
		fmt.Fprintf(c, "HEAD %s HTTP/1.1\r\nHost: x\r\n\r\n", f.URL())
		if resp, err := readResponse(r, true); err != nil || resp.status != 200 {
			t.Fatalf("HEAD %s: got %v, %v; want 200", f.URL(), resp, err)
		}
	}
	if err := fileset.Evict(m, dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		resp := get(t, c, r, f.URL())
		sum := sha256.Sum256(resp.body)
		if resp.status != 200 || hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Fatalf("GET %s: got status %d, %d bytes with sha256 %x; want 200 and the manifest's %d bytes",
				f.URL(), resp.status, len(resp.body), sum, f.SizeBytes)
		}
	}
	s.cmd.Process.Signal(syscall.SIGUSR1)
	var snap struct {
		HelperDispatches uint64 `json:"helper_dispatches"`
		Flashlite        struct {
			PageInDispatches uint64 `json:"page_in_dispatches"`
		} `json:"flashlite"`
	}
	deadline := time.Now().Add(conformance.Timeout)
	for snap.HelperDispatches == 0 && time.Now().Before(deadline) {
		if data, err := os.ReadFile(statsFile); err == nil {
			json.Unmarshal(data, &snap)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if snap.Flashlite.PageInDispatches == 0 || snap.HelperDispatches < snap.Flashlite.PageInDispatches {
		t.Errorf("stats after serving an evicted set: got page_in_dispatches %d, helper_dispatches %d; want both > 0",
			snap.Flashlite.PageInDispatches, snap.HelperDispatches)
	}
}

// TestFlashliteSendFileMin checks --sendfile-min on the real binary: a
// body shorter than it is copied from the mapped-file cache (a miss, then
// a hit), one at least as long goes by sendfile and never maps a chunk.
func TestFlashliteSendFileMin(t *testing.T) {
	dir := t.TempDir()
	for name, n := range map[string]int{"small": 500, "large": 2048} {
		if err := os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte{'x'}, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		file       string
		min        string
		wantMapped bool
	}{
		{"small", "1024", true},
		{"large", "1024", false},
		{"small", "0", false},
	} {
		statsFile := filepath.Join(t.TempDir(), "stats.json")
		s := startServer(t, "--arch", "flashlite", "--root", dir, "--sendfile-min", tt.min, "--stats-file", statsFile)
		c := dial(t, s.addr)
		r := bufio.NewReader(c)
		for range 2 {
			if resp := get(t, c, r, "/"+tt.file); resp.status != 200 {
				t.Fatalf("GET /%s: got status %d, want 200", tt.file, resp.status)
			}
		}
		c.Close()
		s.cmd.Process.Signal(syscall.SIGUSR1)
		var snap struct {
			Requests uint64 `json:"requests"`
			Caches   struct {
				MmapHits   uint64 `json:"mmap_hits"`
				MmapMisses uint64 `json:"mmap_misses"`
			} `json:"caches"`
		}
		deadline := time.Now().Add(conformance.Timeout)
		for snap.Requests < 2 && time.Now().Before(deadline) {
			if data, err := os.ReadFile(statsFile); err == nil {
				json.Unmarshal(data, &snap)
			}
			time.Sleep(10 * time.Millisecond)
		}
		mapped := snap.Caches.MmapHits+snap.Caches.MmapMisses > 0
		if snap.Requests < 2 || mapped != tt.wantMapped {
			t.Errorf("--sendfile-min %s, GET /%s twice: got %d requests, mmap hits %d and misses %d; want 2 requests, mapped %v",
				tt.min, tt.file, snap.Requests, snap.Caches.MmapHits, snap.Caches.MmapMisses, tt.wantMapped)
		}
	}
}
