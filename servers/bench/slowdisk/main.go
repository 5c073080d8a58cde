// Command slowdisk mounts a read-only view of a directory through FUSE
// whose file reads are served by a model of a slow storage device: each
// read waits the device's access time plus its transfer time, and the
// device serves a fixed number of reads at once (its channels), queueing
// the rest. The harness puts the file set of its [disk] experiments
// behind it, so that the servers' page cache, limited by a memory cgroup,
// misses onto a device whose speed and parallelism are stated, instead of
// onto this machine's virtual disk (which the host caches, answering a
// 64 KiB read in about a tenth of a millisecond) or a token-bucket
// throttle (whose rate no number of reads in flight changes, which no
// device does).
//
//	slowdisk --backing DIR --mount MNT --latency 5ms --channels 8
//
// It prints "slowdisk: serving DIR on MNT" once the mount answers, and on
// SIGTERM or SIGINT unmounts, prints what the device did and exits. With
// --stats-file it also writes the device's counters there as JSON (Report)
// on SIGUSR1 and at exit, so that a harness can bracket a measurement. The
// kernel caches the mounted files' pages, names and attributes as for a
// local file system; only reads that miss the page cache reach the
// device. Needs root and /dev/fuse.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"flashbench/internal/atomicfile"
	"flashbench/internal/cliutil"
)

func main() { cliutil.Main(run) }

// Options is what slowdisk serves and how slow its device is.
type Options struct {
	Backing, Mount string
	Latency        time.Duration
	BytesPerSecond int64
	Channels       int
}

// run is the whole command, testable in-process.
func run(args []string, stdout, stderr io.Writer) error {
	app := &cli.App{
		Name:            "slowdisk",
		Usage:           "mount a directory read-only through a model of a slow storage device",
		UsageText:       "slowdisk --backing DIR --mount MNT [--latency D] [--bytes-per-second B] [--channels N] [--stats-file FILE]",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError:    cliutil.UsageError, // a bad flag is one line, as in every flashbench command
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "backing", Usage: "directory whose files are served (required)"},
			&cli.StringFlag{Name: "mount", Usage: "empty directory to mount on (required)"},
			&cli.DurationFlag{Name: "latency", Value: 5 * time.Millisecond, Usage: "access time of every read"},
			&cli.Int64Flag{Name: "bytes-per-second", Usage: "transfer rate of one channel; 0 means transfers take no time"},
			&cli.IntFlag{Name: "channels", Value: 8, Usage: "reads the device serves at once"},
			&cli.StringFlag{Name: "stats-file", Usage: "write the device's counters to `FILE` as JSON on SIGUSR1 and at exit"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return errors.New("unexpected arguments (see --help)")
			}
			if c.String("backing") == "" || c.String("mount") == "" {
				return errors.New("--backing and --mount are required (see --help)")
			}
			o := Options{Backing: c.String("backing"), Mount: c.String("mount"), Latency: c.Duration("latency"),
				BytesPerSecond: c.Int64("bytes-per-second"), Channels: c.Int("channels")}
			if o.Latency < 0 || o.BytesPerSecond < 0 || o.Channels < 1 {
				return errors.New("--latency and --bytes-per-second must not be negative, --channels at least 1")
			}
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
			defer signal.Stop(sigs)
			dev := NewDevice(o.Latency, o.BytesPerSecond, o.Channels)
			if file := c.String("stats-file"); file != "" {
				stop := reportOnSignal(dev, file, stderr)
				defer stop()
			}
			return Serve(o, dev, sigs, stdout)
		},
	}
	if err := app.Run(args); err != nil {
		return fmt.Errorf("slowdisk: %w", err)
	}
	return nil
}

// Serve mounts o.Backing on o.Mount with reads served by dev, prints a
// line to w once the mount answers, serves until stop delivers, then
// unmounts and prints the device's counters to w.
func Serve(o Options, dev *Device, stop <-chan os.Signal, w io.Writer) error {
	backing, err := filepath.Abs(o.Backing)
	if err != nil {
		return err
	}
	if st, err := os.Stat(backing); err != nil || !st.IsDir() {
		return fmt.Errorf("backing %s: not a directory", o.Backing)
	}
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/fuse: %w", err)
	}
	defer unix.Close(fd)
	data := fmt.Sprintf("fd=%d,rootmode=40000,user_id=%d,group_id=%d,allow_other,default_permissions,max_read=%d",
		fd, os.Getuid(), os.Getgid(), maxRead)
	if err := unix.Mount("slowdisk", o.Mount, "fuse", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_RDONLY, data); err != nil {
		return fmt.Errorf("mount %s: %w", o.Mount, os.NewSyscallError("mount", err))
	}
	f := newFS(fd, backing, dev)
	done := make(chan error, 1)
	go func() { done <- f.serve() }()
	ready := make(chan error, 1)
	go func() { _, err := os.Stat(filepath.Join(o.Mount, ".")); ready <- err }()
	select {
	case err = <-ready:
	case err = <-done:
		if err == nil {
			err = errors.New("the kernel ended the connection")
		}
	}
	if err != nil {
		unix.Unmount(o.Mount, unix.MNT_DETACH)
		return fmt.Errorf("mount %s: %w", o.Mount, err)
	}
	fmt.Fprintf(w, "slowdisk: serving %s on %s: %s per read, %d channels\n", backing, o.Mount, dev.Latency, dev.Channels)
	select {
	case <-stop:
	case err = <-done:
	}
	uerr := unix.Unmount(o.Mount, unix.MNT_DETACH)
	fmt.Fprintf(w, "slowdisk: %s\n", dev.Stats())
	if err != nil {
		return err
	}
	if uerr != nil {
		return fmt.Errorf("unmount %s: %w", o.Mount, os.NewSyscallError("umount2", uerr))
	}
	return nil
}

// reportOnSignal writes dev's Report to file at every SIGUSR1 until the
// function it returns is called, which writes it a last time.
func reportOnSignal(dev *Device, file string, stderr io.Writer) (stop func()) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-usr1:
				writeReport(dev, file, stderr)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(usr1)
		close(done)
		<-exited
		writeReport(dev, file, stderr)
	}
}

// writeReport stores dev's Report in file atomically: a reader never sees
// half a document.
func writeReport(dev *Device, file string, stderr io.Writer) {
	b, err := json.Marshal(dev.Report())
	if err == nil {
		err = atomicfile.WriteFile(file, append(b, '\n'))
	}
	if err != nil {
		fmt.Fprintf(stderr, "slowdisk: stats file: %v\n", err)
	}
}
