package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/harness/topology"
	"flashbench/results"
)

// mountPrefix starts the name of every slowdisk mount point the harness
// makes, in the temporary directory: flashbench-slowdisk-PID-CELL-RANDOM,
// PID being the harness's, so that a later run can tell whose it was.
const mountPrefix = "flashbench-slowdisk-"

// device is a slowdisk process serving one cell's file set on a mount
// point of its own, which the cell's server serves.
type device struct {
	proc topology.Process
	// log holds slowdisk's output, apart from the server's.
	log *os.File
	// mnt is the mount point; statsFile is where slowdisk writes its
	// counters on SIGUSR1 and at exit.
	mnt, statsFile string
	// last delivers slowdisk's last output line once its output ends:
	// what the device did, printed when it unmounts.
	last chan string
}

// deviceConfig is what starting a cell's device needs.
type deviceConfig struct {
	bin, backing, dir string
	disk              Disk
	cell              int
	cpus              []int
	log               *os.File
	timeout           time.Duration
}

// deviceReport is slowdisk's stats file (servers/bench/slowdisk Report).
type deviceReport struct {
	LatencyNS              int64 `json:"latency_ns"`
	BytesPerSecond         int64 `json:"bytes_per_second"`
	Channels               int   `json:"channels"`
	Reads                  int64 `json:"reads"`
	Bytes                  int64 `json:"bytes"`
	BusyNS                 int64 `json:"busy_ns"`
	InFlightNS             int64 `json:"in_flight_ns"`
	MaxInFlightSinceReport int   `json:"max_in_flight_since_report"`
}

// startDevice mounts c.backing through a new slowdisk on a fresh mount
// point (so the set starts cold) and waits until the mount answers. The
// device runs in the harness's mount namespace, so that a server started
// after it in a network namespace (ip netns exec copies the mounts into
// a namespace of its own) sees the mount. It runs pinned to c.cpus, in a
// session of its own (a Ctrl-C at the terminal reaches the harness, which
// stops the server first), outside the server's cgroup, and it gets
// SIGTERM, which makes it unmount, if the harness dies.
func startDevice(ctx context.Context, c deviceConfig) (*device, error) {
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return nil, errors.New("disk: taskset not found (apt-get install util-linux)")
	}
	mnt, err := os.MkdirTemp("", fmt.Sprintf("%s%d-%d-", mountPrefix, os.Getpid(), c.cell))
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	d := &device{log: c.log, mnt: mnt, statsFile: filepath.Join(c.dir, "device.json"), last: make(chan string, 1)}
	args := append([]string{"--backing", c.backing, "--mount", mnt, "--stats-file", d.statsFile}, c.disk.args()...)
	pr, pw, err := os.Pipe()
	if err != nil {
		os.Remove(mnt)
		return nil, fmt.Errorf("disk: %w", err)
	}
	d.proc, err = topology.StartPinned(taskset, topology.Command{Path: c.bin, Args: args, Stdout: pw, Stderr: c.log}, c.cpus,
		&syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM})
	pw.Close()
	if err != nil {
		pr.Close()
		os.Remove(mnt)
		return nil, fmt.Errorf("disk: %w", err)
	}
	ready := make(chan struct{})
	go d.readOutput(pr, c.log, ready)
	select {
	case <-ready:
		return d, nil
	case <-d.proc.Done():
		err = fmt.Errorf("disk: slowdisk exited: %v%s", d.proc.Err(), logTail(c.log))
	case <-time.After(c.timeout):
		err = fmt.Errorf("disk: slowdisk not serving after %v%s", c.timeout, logTail(c.log))
	case <-ctx.Done():
		err = ctx.Err()
	}
	_, serr := d.stop(time.Second)
	return nil, errors.Join(err, serr)
}

// readOutput copies slowdisk's output to log, closes ready at its serving
// line, and sends the last line on d.last when the output ends.
func (d *device) readOutput(pr *os.File, log *os.File, ready chan struct{}) {
	defer pr.Close()
	last, serving := "", false
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "slowdisk: serving") && !serving {
			close(ready)
			serving = true
		}
		fmt.Fprintln(log, line)
		last = line
	}
	d.last <- last
}

// report asks the device for its counters (SIGUSR1) and returns them.
func (d *device) report() (deviceReport, error) {
	var r deviceReport
	os.Remove(d.statsFile)
	select {
	case <-d.proc.Done():
		return r, fmt.Errorf("disk: slowdisk exited (%v)", d.proc.Err())
	default:
	}
	if err := d.proc.Signal(syscall.SIGUSR1); err != nil {
		return r, fmt.Errorf("disk: %w", err)
	}
	for range 300 {
		if b, err := os.ReadFile(d.statsFile); err == nil && json.Unmarshal(b, &r) == nil {
			return r, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return r, fmt.Errorf("disk: slowdisk wrote no counters to %s within 3s of SIGUSR1", d.statsFile)
}

// measure sets res.Disk to the device's model and to what it did since
// the report before.
func (d *device) measure(res *results.Result, before deviceReport) error {
	after, err := d.report()
	if err != nil {
		return err
	}
	busy := after.BusyNS - before.BusyNS
	res.Disk = &results.Disk{Model: "slowdisk", LatencyUS: float64(after.LatencyNS) / 1e3, BytesPerS: after.BytesPerSecond,
		Channels: after.Channels, Reads: after.Reads - before.Reads, ReadBytes: after.Bytes - before.Bytes,
		BusyS: float64(busy) / 1e9, MaxInFlight: after.MaxInFlightSinceReport}
	if busy > 0 {
		res.Disk.MeanInFlight = float64(after.InFlightNS-before.InFlightNS) / float64(busy)
	}
	return nil
}

// stop ends the device: SIGTERM to its own PID (it unmounts and prints
// what it did), SIGKILL to its group after timeout. Then, in any case, it
// detaches the mount point (a device that died leaves its mount behind)
// and removes it. It returns the device's last line. Stop the server
// that serves the mount first.
func (d *device) stop(timeout time.Duration) (string, error) {
	var err error
	d.proc.Signal(syscall.SIGTERM)
	select {
	case <-d.proc.Done():
	case <-time.After(timeout):
		err = fmt.Errorf("disk: slowdisk still running %v after SIGTERM, killed", timeout)
	}
	if kerr := d.proc.Kill(); kerr != nil && err == nil {
		err = fmt.Errorf("disk: %w", kerr)
	}
	<-d.proc.Done()
	last := ""
	select {
	case last = <-d.last:
	case <-time.After(timeout):
	}
	return strings.TrimPrefix(last, "slowdisk: "), errors.Join(err, removeMount(d.mnt))
}

// removeMount detaches the mount on dir, if any, and removes dir.
func removeMount(dir string) error {
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("disk: unmount %s: %w", dir, os.NewSyscallError("umount2", err))
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("disk: %w", err)
	}
	return nil
}

// mountNameRE matches the mount points runs make, capturing the PID.
var mountNameRE = regexp.MustCompile("^" + mountPrefix + "([0-9]+)-")

// SweepMounts detaches and removes the slowdisk mount points
// (TMPDIR/flashbench-slowdisk-PID-*, and any mount so named elsewhere)
// whose harness process PID no longer exists: left by a run killed before
// it could stop its device (a device that dies with the harness unmounts
// itself, but one killed outright leaves a dead mount). It returns them.
func SweepMounts() ([]string, error) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), mountPrefix+"*"))
	mounts, err := mountPoints()
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		if strings.HasPrefix(filepath.Base(m), mountPrefix) && !slices.Contains(dirs, m) {
			dirs = append(dirs, m)
		}
	}
	var removed []string
	for _, dir := range dirs {
		m := mountNameRE.FindStringSubmatch(filepath.Base(dir))
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || !errors.Is(unix.Kill(pid, 0), unix.ESRCH) {
			continue
		}
		if err := removeMount(dir); err != nil {
			return removed, fmt.Errorf("mount sweep: %w", err)
		}
		removed = append(removed, dir)
	}
	return removed, nil
}

// mountPoints lists the mount points of this mount namespace.
func mountPoints() ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mount sweep: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 {
			out = append(out, unescapeMountinfo(f[4]))
		}
	}
	return out, nil
}

// unescapeMountinfo decodes the octal escapes (\040 for a space) of a
// /proc/self/mountinfo path.
func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// startCellDevice mounts the cell's file set (sc.docroot) through a new
// device on the client's CPUs and returns the mount point, the server's
// document root. The device's output goes to a log of its own next to
// the server's (NAME.device.log), so that the server's log tail, quoted
// when it fails, is the server's alone. The device is the storage, not part of the server: it
// runs outside the server's cgroup and off its CPU, as a disk's
// controller would, and on the client's CPU, where a disk-bound run's
// load generator leaves most of the time free.
func (r *runner) startCellDevice(ctx context.Context, cr *cellRun, sc serverConfig) (string, error) {
	log, err := os.Create(strings.TrimSuffix(sc.log.Name(), ".log") + ".device.log")
	if err != nil {
		return "", fmt.Errorf("disk: %w", err)
	}
	d, err := startDevice(ctx, deviceConfig{bin: filepath.Join(r.o.BinDir, "slowdisk"), backing: sc.docroot, dir: sc.dir,
		disk: *r.e.Disk, cell: cr.idx, cpus: r.o.Topology.Pinning().ClientCPUs, log: log, timeout: r.o.StartTimeout})
	if err != nil {
		log.Close()
		return "", err
	}
	cr.dev = d
	return d.mnt, nil
}

// stopCellDevice stops the cell's device and logs what it did.
func (r *runner) stopCellDevice(cr *cellRun) {
	last, err := cr.dev.stop(r.o.StopTimeout)
	cr.dev.log.Close()
	if last != "" {
		r.logf("%s: device: %s", cellName(cr.c), last)
	}
	if err != nil {
		r.logf("%v", err)
	}
}

// cellName names a cell in the log: "amped dataset_bytes=67108864".
func cellName(c Cell) string {
	if c.Param == "" {
		return c.Arch
	}
	return fmt.Sprintf("%s %s=%v", c.Arch, c.Param, c.Value)
}

// checkDisk says why this run cannot model its [disk]: a skip when the
// machine has no FUSE, an error when slowdisk was not built.
func (r *runner) checkDisk() error {
	if r.e.Disk == nil {
		return nil
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return &SkipError{Reason: fmt.Sprintf("%s: skipped: the slowdisk device needs /dev/fuse: %v", r.e.Name, err)}
	}
	if _, err := os.Stat(filepath.Join(r.o.BinDir, "slowdisk")); err != nil {
		return fmt.Errorf("run: [disk] needs slowdisk next to webserver (make build): %w", err)
	}
	return nil
}
