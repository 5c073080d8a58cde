package harness_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/fileset"
	"flashbench/harness"
	"flashbench/harness/harnesstest"
	"flashbench/harness/topology"
	"flashbench/harness/topology/topologytest"
	"flashbench/results"
)

// TestDiskSection parses experiments with and without a valid [disk]: a
// bad one is refused with one line naming the key.
func TestDiskSection(t *testing.T) {
	head := "name = \"d\"\ndescription = \"d\"\narchs = [\"sped\"]\n[fileset]\nkind = \"fixed\"\ncount = 1\nsize_bytes = 1024\n" +
		"[load]\nconnections = 1\nduration = \"1s\"\n"
	mem := "[memory]\nlimit_bytes = 67108864\n"
	ms := func(n int) harness.Duration { return harness.Duration{Duration: time.Duration(n) * time.Millisecond} }
	tests := []struct {
		name, text string
		want       harness.Disk
		err        string // "" when the text is valid
	}{
		{"latency and channels", mem + "[disk]\nlatency = \"5ms\"\nchannels = 8\n", harness.Disk{Latency: ms(5), Channels: 8}, ""},
		{"with transfer time", mem + "[disk]\nlatency = \"10ms\"\nbytes_per_s = 20971520\nchannels = 1\n",
			harness.Disk{Latency: ms(10), BytesPerS: 20 << 20, Channels: 1}, ""},
		{"transfer time only", mem + "[disk]\nbytes_per_s = 1048576\nchannels = 2\n", harness.Disk{BytesPerS: 1 << 20, Channels: 2}, ""},
		{"no memory", "[disk]\nlatency = \"5ms\"\nchannels = 8\n", harness.Disk{}, "disk: needs a [memory] section"},
		{"empty", mem + "[disk]\n", harness.Disk{}, "disk: latency and bytes_per_s: neither set"},
		{"no channels", mem + "[disk]\nlatency = \"5ms\"\n", harness.Disk{}, "disk: channels: 0, want 1 to 1024"},
		{"too many channels", mem + "[disk]\nlatency = \"5ms\"\nchannels = 2000\n", harness.Disk{}, "disk: channels: 2000, want 1 to 1024"},
		{"negative latency", mem + "[disk]\nlatency = \"-1ms\"\nchannels = 1\n", harness.Disk{}, "disk: latency: -1ms, want 0 to 1s"},
		{"latency too long", mem + "[disk]\nlatency = \"2s\"\nchannels = 1\n", harness.Disk{}, "disk: latency: 2s, want 0 to 1s"},
		{"latency not a duration", mem + "[disk]\nlatency = \"5\"\nchannels = 1\n", harness.Disk{}, "missing unit in duration"},
		{"tiny transfer rate", mem + "[disk]\nbytes_per_s = 1000\nchannels = 1\n", harness.Disk{}, "disk: bytes_per_s: 1000, want 0"},
		{"the blkio keys are gone", mem + "[disk]\nread_bps = 31457280\nread_iops = 300\n", harness.Disk{},
			"unknown key disk.read_bps, disk.read_iops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := harness.ParseExperiment("d.toml", []byte(head+tt.text))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("parse %q: got error %v, want one line containing %q", tt.text, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse %q: %v", tt.text, err)
			}
			if e.Disk == nil || *e.Disk != tt.want {
				t.Errorf("parse %q: got disk %+v, want %+v", tt.text, e.Disk, tt.want)
			}
		})
	}
}

// TestExecuteDisk runs sped and amped on a set twice their memory cgroup,
// served from a slowdisk device, on the local topology.
func TestExecuteDisk(t *testing.T) {
	executeDisk(t, harnesstest.NewLocal(t))
}

// TestExecuteDiskNetns runs the same with the server in a network
// namespace: it must see the mount, made in the harness's mount namespace.
func TestExecuteDiskNetns(t *testing.T) {
	topologytest.NeedNetns(t)
	topo, err := topology.NewNetns("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	executeDisk(t, topo)
}

// executeDisk runs testdata/disk.toml on topo and checks that each server
// read its files through the device (the device counted reads during each
// measurement), that every result records the device's model, and that
// no mount, mount point or process is left after the run. It skips on a
// machine without memory cgroups or FUSE; where they exist, the run must
// not be skipped.
func executeDisk(t *testing.T, topo topology.Topology) {
	t.Helper()
	harnesstest.NeedMemoryCgroup(t)
	harnesstest.NeedFUSE(t)
	e, err := harness.ReadExperiment(filepath.Join("testdata", "disk.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	out, err := harness.Execute(context.Background(), harness.Options{Experiment: e, Topology: topo, BinDir: binDir,
		OutDir: t.TempDir(), FileSetDir: worldReadableTempDir(t), Quick: true, Log: &log})
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log.String())
	}
	if len(out.Index.Points) != 2 {
		t.Fatalf("got %d points, want 2 (sped, amped)\n%s", len(out.Index.Points), log.String())
	}
	for _, p := range out.Index.Points {
		if p.Status != harness.StatusOK {
			t.Errorf("point %s: got %s (%s), want ok\n%s", p.ID, p.Status, p.Reason, log.String())
			continue
		}
		r, err := results.Read(filepath.Join(out.Dir, p.Result))
		if err != nil {
			t.Fatal(err)
		}
		d := r.Disk
		if d == nil {
			t.Errorf("point %s: got no disk in the result, want the device's counters", p.ID)
			continue
		}
		if d.Model != "slowdisk" || d.LatencyUS != 2000 || d.Channels != 3 || d.BytesPerS != 0 {
			t.Errorf("point %s: got disk model %+v, want slowdisk, 2000 us, 3 channels, no transfer time", p.ID, *d)
		}
		// The set is twice the memory bound and starts cold: the server
		// reads from the device during the measurement, and whenever
		// the device is busy at least one read is in flight.
		if d.Reads <= 0 || d.ReadBytes <= 0 || d.BusyS <= 0 || d.MeanInFlight < 1 || d.MaxInFlight < 1 {
			t.Errorf("point %s: got disk %+v, want reads, bytes and busy time > 0, at least one read in flight", p.ID, *d)
		}
		// Warmed until the page cache stopped filling: at least one
		// warm-up period, with the set's residency in the log.
		if r.Config.WarmupS < 0.2 || !strings.Contains(log.String(), p.Arch+": warmed ") {
			t.Errorf("point %s: got warmup_s %v and no warm-up line for it, want 0.2 s or more and a line:\n%s", p.ID, r.Config.WarmupS, log.String())
		}
		if !strings.Contains(log.String(), p.Arch+" dataset_bytes=67108864: device: ") {
			t.Errorf("log lacks the device's last line for %s:\n%s", p.Arch, log.String())
		}
		devLog, err := os.ReadFile(filepath.Join(out.Dir, "logs", p.Arch+"-dataset_bytes=67108864.device.log"))
		if err != nil || !strings.HasPrefix(string(devLog), "slowdisk: serving ") {
			t.Errorf("%s's device log: got %q, %v; want slowdisk's serving line first", p.Arch, devLog, err)
		}
	}
	var sum bytes.Buffer
	if err := harness.WriteSummary(&sum, e, out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.String(), "reads/s") || !strings.Contains(sum.String(), "in flight") {
		t.Errorf("summary lacks the device's reads and reads in flight:\n%s", sum.String())
	}
	checkNoDevice(t)
}

// remoteStub is the local topology posing as a remote one (ssh).
type remoteStub struct {
	*topology.Local
	t *testing.T
}

func (s remoteStub) Install(string) error {
	s.t.Error("Install called, want the run refused first")
	return errors.New("stub")
}

func (s remoteStub) FileSet(fileset.Options) (*fileset.Manifest, error) {
	s.t.Error("FileSet called, want the run refused first")
	return nil, errors.New("stub")
}

func (s remoteStub) TakeServerFile(string) ([]byte, error) { return nil, errors.New("stub") }

// TestDiskOnRemote checks that a disk experiment on a remote topology is
// skipped with one line saying why, before anything is installed or
// written: the device and the memory cgroup are made on this machine.
func TestDiskOnRemote(t *testing.T) {
	local := harnesstest.NewLocal(t)
	e, err := harness.ReadExperiment(filepath.Join("testdata", "disk.toml"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	_, err = harness.Execute(context.Background(), harness.Options{Experiment: e, Topology: remoteStub{local, t},
		BinDir: binDir, OutDir: out, FileSetDir: t.TempDir(), Quick: true})
	var skip *harness.SkipError
	want := "disk: skipped: memory cgroups and the slowdisk device need the local or netns topology"
	if !errors.As(err, &skip) || skip.Reason != want {
		t.Errorf("Execute: got %v, want the skip %q", err, want)
	}
	if ents, _ := os.ReadDir(out); len(ents) > 0 {
		t.Errorf("got %d entries in the results directory, want none", len(ents))
	}
}

// checkNoDevice checks that no slowdisk mount or mount point of this
// process remains, and no process of binDir.
func checkNoDevice(t *testing.T) {
	t.Helper()
	prefix := fmt.Sprintf("flashbench-slowdisk-%d-", os.Getpid())
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mountinfo), "/"+prefix) {
		t.Errorf("a mount %s* is left:\n%s", prefix, mountinfo)
	}
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*")); len(left) > 0 {
		t.Errorf("got mount points %v left, want none", left)
	}
	if left := processesFrom(t, binDir); len(left) > 0 {
		t.Errorf("got processes %v left behind, want none", left)
	}
}

// TestSweepMounts leaves a dead slowdisk mount named after a harness that
// no longer exists (its device killed outright) and a mount point named
// after a live one: the sweep removes the first and keeps the second.
func TestSweepMounts(t *testing.T) {
	harnesstest.NeedFUSE(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(os.TempDir(), fmt.Sprintf("flashbench-slowdisk-%d-0-test", dead.Process.Pid))
	live := filepath.Join(os.TempDir(), fmt.Sprintf("flashbench-slowdisk-%d-0-test", os.Getpid()))
	for _, dir := range []string{stale, live} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH); os.Remove(dir) })
	}
	var out bytes.Buffer
	dev := exec.Command(filepath.Join(binDir, "slowdisk"), "--backing", t.TempDir(), "--mount", stale)
	dev.Stdout = &out
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !isMounted(t, stale); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			dev.Process.Kill()
			dev.Wait()
			t.Fatalf("slowdisk never mounted %s: %s", stale, out.String())
		}
	}
	dev.Process.Kill() // its mount stays, dead
	dev.Wait()
	if !isMounted(t, stale) {
		t.Fatalf("%s: not mounted after its device was killed, want a dead mount to sweep", stale)
	}
	removed, err := harness.SweepMounts()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) == 0 || !strings.Contains(strings.Join(removed, " "), stale) || strings.Contains(strings.Join(removed, " "), live) {
		t.Errorf("got removed %v, want %s and not %s", removed, stale, live)
	}
	if isMounted(t, stale) {
		t.Errorf("%s: still mounted after the sweep", stale)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat %s: got %v, want not exist", stale, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("stat %s: got %v, want it kept", live, err)
	}
}

// isMounted reports whether dir is a mount point of this namespace.
func isMounted(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}
