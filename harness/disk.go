package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Disk throttles the server's reads from the device holding the file set,
// so that a disk-bound experiment runs against a disk whose service time
// dominates, as the 1999 papers' disks did, instead of a fast virtual disk
// (cgroup v1 blkio.throttle.read_{bps,iops}_device, cgroup v2 io.max). It
// needs [memory]: the limits apply to the server's memory cgroup, which
// its helper processes inherit.
type Disk struct {
	// ReadBPS bounds the bytes read per second, 0 for no bound.
	ReadBPS int64 `toml:"read_bps"`
	// ReadIOPS bounds the read requests per second, 0 for no bound.
	ReadIOPS int64 `toml:"read_iops"`
}

func (d *Disk) validate(mem *Memory) error {
	switch {
	case d.ReadBPS < 0 || d.ReadIOPS < 0:
		return fmt.Errorf("read_bps %d, read_iops %d: want 0 or more", d.ReadBPS, d.ReadIOPS)
	case d.ReadBPS == 0 && d.ReadIOPS == 0:
		return errors.New("neither read_bps nor read_iops set")
	case d.ReadBPS != 0 && d.ReadBPS < 1<<20:
		return fmt.Errorf("read_bps %d: want at least 1 MiB/s", d.ReadBPS)
	case d.ReadIOPS != 0 && d.ReadIOPS < 10:
		return fmt.Errorf("read_iops %d: want at least 10", d.ReadIOPS)
	case mem == nil:
		return errors.New("needs a [memory] section: the limits apply to the server's memory cgroup")
	}
	return nil
}

// BlockDevice returns the major and minor numbers of the whole disk that
// holds path: the device of its file system, or the disk a partition of it
// belongs to (block throttling applies to whole disks only).
func BlockDevice(path string) (major, minor uint32, err error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, fmt.Errorf("block device of %s: %w", path, os.NewSyscallError("stat", err))
	}
	major, minor = unix.Major(st.Dev), unix.Minor(st.Dev)
	sys := fmt.Sprintf("/sys/dev/block/%d:%d", major, minor)
	if _, err := os.Stat(sys); err != nil {
		return 0, 0, fmt.Errorf("block device of %s: %d:%d is not a block device (%w)", path, major, minor, err)
	}
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		b, err := os.ReadFile(filepath.Join(sys, "..", "dev"))
		if err != nil {
			return 0, 0, fmt.Errorf("block device of %s: disk of partition %d:%d: %w", path, major, minor, err)
		}
		return parseDev(strings.TrimSpace(string(b)))
	}
	return major, minor, nil
}

func parseDev(s string) (major, minor uint32, err error) {
	a, b, ok := strings.Cut(s, ":")
	ma, err1 := strconv.ParseUint(a, 10, 32)
	mi, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("block device: bad device number %q", s)
	}
	return uint32(ma), uint32(mi), nil
}
