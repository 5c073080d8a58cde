package uring_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
)

// randomBytes returns n bytes of a fixed pseudo-random sequence.
func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// tempFile writes data to a new file and returns it opened for reading.
func tempFile(t testing.TB, data []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestReadAtOffset(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 4})
	data := randomBytes(10000, 1)
	f := tempFile(t, data)
	tests := []struct {
		off, n int
		want   []byte
	}{
		{0, 100, data[:100]},
		{1234, 4096, data[1234 : 1234+4096]},
		{9990, 100, data[9990:]},
		{10000, 100, nil},
	}
	for _, tt := range tests {
		buf := make([]byte, tt.n)
		getSQE(t, r).PrepRead(int(f.Fd()), buf, uint64(tt.off)).SetUserData(uint64(tt.off))
		c := reap(t, r, 1)[0]
		if c.UserData != uint64(tt.off) || c.Res != int32(len(tt.want)) || !bytes.Equal(buf[:max(c.Res, 0)], tt.want) {
			t.Errorf("read %d bytes at %d: got %+v, want %d bytes equal to the file's", tt.n, tt.off, c, len(tt.want))
		}
	}
}

// TestPollAdd polls a pipe, as a loop polls a CGI process's.
func TestPollAdd(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 4})
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	getSQE(t, r).PrepPollAdd(p[0], unix.POLLIN, false).SetUserData(1)
	getSQE(t, r).PrepPollAdd(p[0], unix.POLLIN, true).SetUserData(2)
	if _, err := r.SubmitAndWaitTimeout(1, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := r.CQReady(); n != 0 {
		t.Fatalf("polls of an empty pipe: got %d completions, want 0", n)
	}
	if _, err := unix.Write(p[1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	got := byUserData(t, reap(t, r, 2))
	if c := got[1]; c.Res&unix.POLLIN == 0 || c.More() {
		t.Errorf("one-shot poll: got %+v, want POLLIN without CQEFMore", c)
	}
	if c := got[2]; c.Res&unix.POLLIN == 0 || !c.More() {
		t.Errorf("multishot poll: got %+v, want POLLIN with CQEFMore", c)
	}
	if _, err := unix.Write(p[1], []byte("y")); err != nil {
		t.Fatal(err)
	}
	if c := reap(t, r, 1)[0]; c.UserData != 2 || c.Res&unix.POLLIN == 0 || !c.More() {
		t.Errorf("multishot poll, second write: got %+v, want user data 2, POLLIN, CQEFMore", c)
	}
	getSQE(t, r).PrepCancel(2, 0).SetUserData(3)
	got = byUserData(t, reap(t, r, 2))
	if c := got[2]; c.Res != -int32(unix.ECANCELED) || c.More() {
		t.Errorf("cancelled multishot poll: got %+v, want -ECANCELED without CQEFMore", c)
	}
	if c := got[3]; c.Res != 0 {
		t.Errorf("cancel: got %+v, want Res 0", c)
	}
}

// TestStatx looks a file up through the ring, relative to a directory
// descriptor, as a loop does on a translation miss.
func TestStatx(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 4})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, 12345), 0o644); err != nil {
		t.Fatal(err)
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	tests := []struct {
		path    string
		res     int32
		size    uint64
		regular bool
	}{
		{"f", 0, 12345, true},
		{".", 0, 0, false},
		{"missing", -int32(unix.ENOENT), 0, false},
		{"f/x", -int32(unix.ENOTDIR), 0, false},
	}
	for i, tt := range tests {
		var stx unix.Statx_t
		path := append([]byte(tt.path), 0)
		getSQE(t, r).PrepStatx(dfd, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx).SetUserData(uint64(i))
		c := reap(t, r, 1)[0]
		if c.UserData != uint64(i) || c.Res != tt.res {
			t.Fatalf("statx %q: got %+v, want user data %d, Res %d", tt.path, c, i, tt.res)
		}
		if tt.regular && (stx.Size != tt.size || stx.Mode&unix.S_IFMT != unix.S_IFREG) {
			t.Errorf("statx %q: got size %d, mode %o; want a regular file of %d bytes", tt.path, stx.Size, stx.Mode, tt.size)
		}
	}
}
