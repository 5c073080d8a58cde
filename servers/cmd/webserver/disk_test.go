package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/fileset"
	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/webtest"
)

// slowRead is the access time of the slow device in TestColdReadBlocks:
// long against a cached response on this machine, short enough for a test.
const slowRead = 400 * time.Millisecond

// TestColdReadBlocks serves a file set through bin/slowdisk (FUSE, every
// read that misses the page cache waits slowRead) and asks for a cold
// file on one connection, then for cached files on another while the
// cold read is pending. An architecture that reads the disk off its
// loop (amped with its helpers, uring with reads on its ring) answers the
// cached files first; sped, which reads inline, answers nothing until the
// disk has: the contrast shows the test can tell them apart. Every
// response is the right file.
func TestColdReadBlocks(t *testing.T) {
	backing := t.TempDir()
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: backing, Seed: 3, Count: 8, SizeBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		arch    string
		blocked bool // the cached answers wait for the cold one
	}{
		{"uring", false},
		{"amped", false},
		{"sped", true},
	} {
		t.Run(tt.arch, func(t *testing.T) {
			mnt := mountSlowDisk(t, backing)
			s := startServer(t, "--arch", tt.arch, "--root", mnt)
			warm := m.Files[:4]
			for _, f := range warm { // into the page cache and the pathname cache
				getFile(t, dial(t, s.addr), f.URL(), backing, f.Path)
			}
			cold := &m.Files[7]
			b := dial(t, s.addr)
			start := time.Now()
			fmt.Fprintf(b, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", cold.URL())
			coldDone := make(chan time.Duration, 1)
			go func() {
				getFileAfterRequest(t, b, backing, cold.Path)
				coldDone <- time.Since(start)
			}()
			time.Sleep(20 * time.Millisecond) // the cold request is in
			a := dial(t, s.addr)
			for i := range 20 {
				f := warm[i%len(warm)]
				getFile(t, a, f.URL(), backing, f.Path)
			}
			warmTook := time.Since(start)
			coldTook := <-coldDone
			if coldTook < slowRead {
				t.Fatalf("cold file: answered in %v, want at least the device's %v: it was not cold", coldTook, slowRead)
			}
			if blocked := warmTook >= coldTook; blocked != tt.blocked {
				t.Errorf("20 cached responses done after %v, the cold one after %v: blocked by the disk %v, want %v", warmTook, coldTook, blocked, tt.blocked)
			}
		})
	}
}

// getFile asks for path on c and checks that the answer is the file name
// of dir.
func getFile(t *testing.T, c io.ReadWriter, path, dir, name string) {
	t.Helper()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	getFileAfterRequest(t, c, dir, name)
}

// getFileAfterRequest reads one response from c and checks it is the file
// name of dir. Safe from another goroutine (it reports with Errorf).
func getFileAfterRequest(t *testing.T, c io.Reader, dir, name string) {
	if conn, ok := c.(interface{ SetReadDeadline(time.Time) error }); ok {
		conn.SetReadDeadline(time.Now().Add(10 * conformance.Timeout))
	}
	want, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Error(err)
		return
	}
	resp, err := readResponse(bufio.NewReader(c), false)
	if err != nil || resp.status != 200 || !bytes.Equal(resp.body, want) {
		t.Errorf("GET %s: got %v, %v; want 200 with the file's %d bytes", name, resp, err, len(want))
	}
}

// mountSlowDisk mounts backing read-only through bin/slowdisk (one
// channel, slowRead per read) on a new directory until the test ends. It
// skips where FUSE cannot mount: not root, or no /dev/fuse.
func mountSlowDisk(t *testing.T, backing string) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("mounting a FUSE file system needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "slowdisk")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(gobin, "build", "-o", bin, "flashbench/servers/bench/slowdisk").CombinedOutput(); err != nil {
		t.Fatalf("build slowdisk: %v\n%s", err, out)
	}
	mnt := t.TempDir()
	cmd := exec.Command(bin, "--backing", backing, "--mount", mnt, "--latency", slowRead.String(), "--channels", "1")
	var out webtest.LockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("slowdisk: got %v at unmount, want a clean exit\n%s", err, out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "slowdisk: serving") {
		if time.Now().After(deadline) {
			t.Fatalf("slowdisk did not mount within 10s:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return mnt
}
