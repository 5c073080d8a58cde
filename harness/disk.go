package harness

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Disk is the storage device a disk-bound experiment serves its file set
// from: for each cell, bin/slowdisk (servers/bench/slowdisk) mounts the set
// read-only through FUSE, and every read that misses the server's page
// cache waits Latency plus its transfer time at BytesPerS, with at most
// Channels reads served at once and the others queued in arrival order.
// Such a device answers faster the more reads are in flight, up to its
// channels, as a disk array or a network volume does: SPED, which blocks
// on each miss, keeps one read in flight, AMPED one per busy helper. A
// token bucket on the real disk (the blkio throttle) would hold every
// architecture to the same rate of misses, and this machine's virtual disk,
// cached by its host, answers a read in less time than a server spends on
// the miss. Disk needs [memory], which bounds the server's page cache so
// that its reads miss.
type Disk struct {
	// Latency is the access time of every read.
	Latency Duration `toml:"latency"`
	// BytesPerS is one channel's transfer rate; 0: transfers take no time.
	BytesPerS int64 `toml:"bytes_per_s"`
	// Channels is how many reads the device serves at once.
	Channels int `toml:"channels"`
}

// maxChannels bounds [disk] channels: beyond it the device is no longer
// the bottleneck of any server here.
const maxChannels = 1024

func (d *Disk) validate(mem *Memory) error {
	switch {
	case d.Latency.Duration < 0 || d.Latency.Duration > time.Second:
		return fmt.Errorf("latency: %v, want 0 to 1s", d.Latency.Duration)
	case d.BytesPerS < 0 || (d.BytesPerS > 0 && d.BytesPerS < 1<<20):
		return fmt.Errorf("bytes_per_s: %d, want 0 (no transfer time) or at least 1048576 (1 MiB/s)", d.BytesPerS)
	case d.Latency.Duration == 0 && d.BytesPerS == 0:
		return errors.New("latency and bytes_per_s: neither set, so the device would not be slow")
	case d.Channels < 1 || d.Channels > maxChannels:
		return fmt.Errorf("channels: %d, want 1 to %d (the reads the device serves at once)", d.Channels, maxChannels)
	case mem == nil:
		return errors.New("needs a [memory] section: without a bound on the server's page cache only the first read of each file reaches the device")
	}
	return nil
}

// String describes the device in one phrase, for the run's log.
func (d Disk) String() string {
	s := fmt.Sprintf("slowdisk, %v per read", d.Latency.Duration)
	if d.BytesPerS > 0 {
		s += fmt.Sprintf(" plus transfer at %d B/s", d.BytesPerS)
	}
	return s + fmt.Sprintf(", %d channels", d.Channels)
}

// args are slowdisk's flags for the device.
func (d Disk) args() []string {
	return []string{"--latency", d.Latency.Duration.String(), "--bytes-per-second", strconv.FormatInt(d.BytesPerS, 10),
		"--channels", strconv.Itoa(d.Channels)}
}
