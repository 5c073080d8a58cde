package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestDeviceChannels: however many reads arrive at once, no more than
// the device's channels are served at the same time, and every read is
// served and counted.
func TestDeviceChannels(t *testing.T) {
	tests := []struct {
		name            string
		channels, reads int
	}{
		{"one channel", 1, 6},
		{"three channels", 3, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDevice(time.Millisecond, 0, tt.channels)
			var now, most atomic.Int32
			var wg sync.WaitGroup
			for range tt.reads {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d.Read(4096, func() {
						n := now.Add(1)
						for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
						}
						time.Sleep(time.Millisecond)
						now.Add(-1)
					})
				}()
			}
			wg.Wait()
			if got := int(most.Load()); got > tt.channels {
				t.Errorf("reads served at once: got %d, want at most %d", got, tt.channels)
			}
			if s := d.Stats(); s.Reads != int64(tt.reads) || s.Bytes != int64(tt.reads)*4096 || s.MaxInFlight > tt.reads {
				t.Errorf("stats: got %+v, want %d reads of 4096 bytes", s, tt.reads)
			}
		})
	}
}

// mount serves backing on a new mount point until the test ends.
func mount(t *testing.T, backing string, dev *Device) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("mounting a FUSE file system needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE: %v", err)
	}
	mnt := t.TempDir()
	stop := make(chan os.Signal, 1)
	var out bytes.Buffer
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() { done <- Serve(Options{Backing: backing, Mount: mnt}, dev, stop, &lockedWriter{&mu, &out}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		ready := strings.Contains(out.String(), "slowdisk: serving")
		mu.Unlock()
		if ready {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve: got %v before the mount answered, want it serving", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("mount did not answer within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop <- syscall.SIGTERM
		if err := <-done; err != nil {
			t.Errorf("serve: got %v at unmount, want nil", err)
		}
		if isMount(t, mnt) {
			t.Errorf("%s: still mounted after stop", mnt)
		}
	})
	return mnt
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func isMount(t *testing.T, dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), " "+dir+" ")
}

// TestMount reads a directory tree through the mount: contents, sizes,
// listings, mappings and errors are those of the backing files, and only
// reads that miss the page cache reach the device.
func TestMount(t *testing.T) {
	backing := t.TempDir()
	big := bytes.Repeat([]byte("flashbench slowdisk\n"), 10000) // 200000 bytes
	files := map[string][]byte{"a.txt": []byte("hello\n"), "sub/big.bin": big, "empty": nil}
	for name, data := range files {
		p := filepath.Join(backing, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dev := NewDevice(time.Millisecond, 0, 4)
	mnt := mount(t, backing, dev)

	t.Run("contents", func(t *testing.T) {
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(mnt, name))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: got %d bytes, %v; want the %d bytes of the backing file", name, len(got), err, len(want))
			}
			st, err := os.Stat(filepath.Join(mnt, name))
			if err != nil || st.Size() != int64(len(want)) {
				t.Errorf("stat %s: got %v, %v; want size %d", name, st, err, len(want))
			}
		}
	})
	t.Run("listing", func(t *testing.T) {
		ents, err := os.ReadDir(mnt)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if want := []string{"a.txt", "empty", "sub"}; err != nil || !slices.Equal(names, want) {
			t.Errorf("list: got %v, %v; want %v", names, err, want)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, err := os.Open(filepath.Join(mnt, "nope")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("missing file: got %v, want not exist", err)
		}
		if err := os.WriteFile(filepath.Join(mnt, "a.txt"), []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
			t.Errorf("write: got %v, want EROFS", err)
		}
	})
	t.Run("mapped", func(t *testing.T) {
		f, err := os.Open(filepath.Join(mnt, "sub/big.bin"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m, err := unix.Mmap(int(f.Fd()), 0, len(big), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Munmap(m)
		if !bytes.Equal(m, big) {
			t.Error("mapping: got bytes unlike the backing file's")
		}
	})
	t.Run("only misses reach the device", func(t *testing.T) {
		name := filepath.Join(mnt, "sub/big.bin")
		evict(t, name)
		before := dev.Stats().Reads
		if _, err := os.ReadFile(name); err != nil {
			t.Fatal(err)
		}
		cold := dev.Stats().Reads
		if cold == before {
			t.Fatalf("device reads after a cold read: got %d, want more than %d", cold, before)
		}
		for range 3 {
			if _, err := os.ReadFile(name); err != nil {
				t.Fatal(err)
			}
		}
		if hot := dev.Stats().Reads; hot != cold {
			t.Errorf("device reads after cached reads: got %d, want still %d", hot, cold)
		}
		evict(t, name)
		if _, err := os.ReadFile(name); err != nil {
			t.Fatal(err)
		}
		if again := dev.Stats().Reads; again == cold {
			t.Errorf("device reads after eviction and a read: got %d, want more than %d", again, cold)
		}
	})
}

func evict(t *testing.T, name string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
}

// TestRunBadFlags checks that bad flags are one error line naming the
// command, before anything is mounted.
func TestRunBadFlags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no backing", []string{"--mount", dir}, "backing"},
		{"no channels", []string{"--backing", dir, "--mount", dir, "--channels", "0"}, "--channels at least 1"},
		{"backing not a directory", []string{"--backing", filepath.Join(dir, "nope"), "--mount", dir}, "not a directory"},
		{"unknown flag", []string{"--bogus"}, "bad usage: flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(append([]string{"slowdisk"}, tt.args...), &stdout, &stderr)
			if stdout.Len() > 0 || stderr.Len() > 0 {
				t.Errorf("run %q: printed %q and %q, want only the error", tt.args, stdout.String(), stderr.String())
			}
			if err == nil || !strings.HasPrefix(err.Error(), "slowdisk: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run %q: got %v, want an error starting \"slowdisk: \" containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestDeviceReport checks the counters a report gives: totals since the
// start, and the most reads in flight since the previous report.
func TestDeviceReport(t *testing.T) {
	d := NewDevice(time.Millisecond, 0, 1)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.Read(100, func() { <-release })
		}()
	}
	for d.Stats().MaxInFlight < 3 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	d.Read(100, func() {})
	tests := []struct {
		name                string
		reads, bytes        int64
		max, maxSinceReport int
	}{
		{"first report", 4, 400, 3, 3},
		{"second report, no read between", 4, 400, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := d.Report()
			if r.Reads != tt.reads || r.Bytes != tt.bytes || r.MaxInFlight != tt.max || r.MaxInFlightSinceReport != tt.maxSinceReport {
				t.Errorf("got %+v, want %d reads, %d bytes, max %d, max since report %d", r, tt.reads, tt.bytes, tt.max, tt.maxSinceReport)
			}
			if r.Channels != 1 || r.LatencyNS != int64(time.Millisecond) || r.BusyNS < 2*int64(time.Millisecond) || r.InFlightNS < r.BusyNS {
				t.Errorf("got %+v, want 1 channel, 1ms, busy at least 2ms (two services), in-flight integral >= busy", r)
			}
		})
	}
}

// TestRunStatsFile runs the command with --stats-file: SIGUSR1 writes the
// device's counters while it serves, SIGTERM unmounts and writes them a
// last time.
func TestRunStatsFile(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting a FUSE file system needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE: %v", err)
	}
	backing, mnt, stats := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "device.json")
	if err := os.WriteFile(filepath.Join(backing, "f"), bytes.Repeat([]byte("x"), 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"slowdisk", "--backing", backing, "--mount", mnt, "--latency", "1ms", "--channels", "2",
			"--stats-file", stats}, &lockedWriter{&mu, &out}, &lockedWriter{&mu, &out})
	}()
	t.Cleanup(func() {
		if isMount(t, mnt) {
			unix.Unmount(mnt, unix.MNT_DETACH)
		}
	})
	waitFor(t, done, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(out.String(), "slowdisk: serving")
	})
	if _, err := os.ReadFile(filepath.Join(mnt, "f")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	var serving Report
	waitFor(t, done, func() bool { return readReport(stats, &serving) == nil })
	// The kernel asks whole pages: the device reads at least the file.
	if serving.Reads == 0 || serving.Bytes < 100000 || serving.Channels != 2 || serving.LatencyNS != int64(time.Millisecond) {
		t.Errorf("report while serving: got %+v, want reads > 0 of at least 100000 bytes, 2 channels, 1ms", serving)
	}
	os.Remove(stats)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("run: got %v after SIGTERM, want nil", err)
	}
	var last Report
	if err := readReport(stats, &last); err != nil || last.Reads != serving.Reads {
		t.Errorf("report at exit: got %+v, %v; want %d reads", last, err, serving.Reads)
	}
	if isMount(t, mnt) {
		t.Errorf("%s: still mounted after SIGTERM", mnt)
	}
}

// waitFor waits up to 10 s for cond, failing the test if run ends first.
func waitFor(t *testing.T, done chan error, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("run: ended with %v before the condition held", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
	}
}

func readReport(path string, r *Report) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, r)
}
