package harness_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/harness"
)

// TestDiskSection parses experiments with and without a valid [disk].
func TestDiskSection(t *testing.T) {
	head := "name = \"d\"\ndescription = \"d\"\narchs = [\"sped\"]\n[fileset]\nkind = \"fixed\"\ncount = 1\nsize_bytes = 1024\n" +
		"[load]\nconnections = 1\nduration = \"1s\"\n"
	mem := "[memory]\nlimit_bytes = 67108864\n"
	tests := []struct {
		name, text string
		want       *harness.Disk // nil: an error is wanted
	}{
		{"bps and iops", mem + "[disk]\nread_bps = 31457280\nread_iops = 300\n", &harness.Disk{ReadBPS: 31457280, ReadIOPS: 300}},
		{"iops only", mem + "[disk]\nread_iops = 200\n", &harness.Disk{ReadIOPS: 200}},
		{"no memory", "[disk]\nread_bps = 31457280\n", nil},
		{"empty", mem + "[disk]\n", nil},
		{"negative", mem + "[disk]\nread_bps = -1\n", nil},
		{"tiny bps", mem + "[disk]\nread_bps = 1000\n", nil},
		{"unknown key", mem + "[disk]\nread_bps = 31457280\nwrite_bps = 1\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := harness.ParseExperiment("d.toml", []byte(head+tt.text))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("parse %q: got no error, want one", tt.text)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse %q: %v", tt.text, err)
			}
			if e.Disk == nil || *e.Disk != *tt.want {
				t.Errorf("parse %q: got disk %+v, want %+v", tt.text, e.Disk, *tt.want)
			}
		})
	}
}

// TestBlockDevice finds the whole disk under a temporary directory: a
// block device that is not a partition, whose dev file names it.
func TestBlockDevice(t *testing.T) {
	dir := t.TempDir()
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))); err != nil {
		if _, _, err := harness.BlockDevice(dir); err == nil {
			t.Errorf("BlockDevice(%s) on a file system without a block device: got no error", dir)
		}
		t.Skipf("%s is not on a block device", dir)
	}
	major, minor, err := harness.BlockDevice(dir)
	if err != nil {
		t.Fatal(err)
	}
	sys := fmt.Sprintf("/sys/dev/block/%d:%d", major, minor)
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		t.Errorf("BlockDevice(%s): got %d:%d, a partition; want its whole disk", dir, major, minor)
	}
	b, err := os.ReadFile(filepath.Join(sys, "dev"))
	if got, want := strings.TrimSpace(string(b)), fmt.Sprintf("%d:%d", major, minor); err != nil || got != want {
		t.Errorf("%s/dev: got %q (%v), want %q", sys, got, err, want)
	}
}

// TestDiskThrottle throttles a memory cgroup's reads, starts a server in
// it and checks the limits, the membership in every hierarchy, and that
// Remove takes the limits away with the cgroup.
func TestDiskThrottle(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	if _, err := harness.CgroupVersion(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	major, minor, err := harness.BlockDevice(dir)
	if err != nil {
		t.Skip(err) // e.g. a temporary directory on tmpfs
	}
	cg, err := harness.NewMemoryCgroup("disk-test-"+strconv.Itoa(os.Getpid()), 64<<20)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { cg.Remove() })
	d := harness.Disk{ReadBPS: 30 << 20, ReadIOPS: 300}
	if err := cg.LimitReads(dir, d); err != nil {
		t.Fatal(err)
	}
	dev := fmt.Sprintf("%d:%d", major, minor)
	limits := map[string]string{filepath.Join(cg.Dir, "io.max"): fmt.Sprintf("%s rbps=%d wbps=max riops=%d wiops=max", dev, d.ReadBPS, d.ReadIOPS)}
	if cg.Version == 1 {
		limits = map[string]string{
			filepath.Join(cg.BlkioDir, "blkio.throttle.read_bps_device"):  fmt.Sprintf("%s %d", dev, d.ReadBPS),
			filepath.Join(cg.BlkioDir, "blkio.throttle.read_iops_device"): fmt.Sprintf("%s %d", dev, d.ReadIOPS),
		}
	}
	for file, want := range limits {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(b)); !strings.HasPrefix(got, want) {
			t.Errorf("%s: got %q, want %q", file, got, want)
		}
	}
	topo, err := harness.NewLocal()
	if err != nil {
		t.Skip(err)
	}
	p, err := topo.StartServer(harness.Command{Path: filepath.Join(binDir, "webserver"),
		Args: []string{"--arch", "null", "--listen", "127.0.0.1:0"}, Cgroup: cg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill(); <-p.Done() })
	for _, procs := range cg.ProcsFiles() {
		if !waitMember(procs, p.PID()) {
			t.Errorf("%s: the server's PID %d never appeared", procs, p.PID())
		}
	}
	if err := cg.Remove(); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	for file := range limits {
		if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Remove: stat %s: got %v, want not exist", file, err)
		}
	}
}

// waitMember waits until procs lists pid.
func waitMember(procs string, pid int) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(procs)
		if err == nil && slices.Contains(strings.Fields(string(b)), strconv.Itoa(pid)) {
			return true
		}
	}
	return false
}
