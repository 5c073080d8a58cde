package soak

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Defaults of Options.
const (
	DefaultDuration    = 10 * time.Minute
	DefaultInterval    = 30 * time.Second
	DefaultWarmup      = 5 * time.Second
	DefaultConnections = 2
	DefaultThinkTime   = 20 * time.Millisecond
	DefaultFaultPeriod = 5 * time.Second
	DefaultFileSetDir  = "/var/tmp/flashbench/filesets"
	// FileSetConnections sizes the SPECweb99 set (28 directories, 1,008
	// files, 143 MB): the smallest the SPECweb99 rule gives beyond its
	// floor of 25 directories.
	FileSetConnections = 5
)

// Server pool sizes: small, so that a few slow clients cannot starve the
// process and thread architectures, large enough that they still do.
const (
	preforkWorkers = 8
	threadedPool   = 16
	ampedHelpers   = 2
	forkingMax     = 32
	cgiProcs       = 1
	// cgiPrograms are the persistent CGI programs the load asks for.
	cgiPrograms = 3
	// shutdownTimeout is the servers' --shutdown-timeout.
	shutdownTimeout = 10 * time.Second
	// requestTimeout bounds one load request (loadgen's timeout).
	requestTimeout = 5 * time.Second
)

// Archs lists the architectures a soak run knows: every webserver
// architecture that serves files and CGI (null serves neither).
var Archs = []string{"sped", "amped", "flashlite", "threaded", "prefork", "forking", "nethttp", "fasthttp"}

// Options configures a soak run. Zero values mean the defaults.
type Options struct {
	// BinDir holds webserver and cgi-bin/ (make build's bin/).
	BinDir string
	// OutDir receives soak.json, soak.md, the interval results and the
	// server logs; default results/soak/<UTC timestamp>.
	OutDir string
	// FileSetDir caches the generated SPECweb99 set; the run's document
	// root is made next to it (hard links, so no copy).
	FileSetDir string
	// Archs are the architectures to run (default Archs).
	Archs []string
	// Duration is how long the load runs (default 10 minutes).
	Duration time.Duration
	// Interval is the length of one load interval, each written as its
	// own result document (default 30 s).
	Interval time.Duration
	// Warmup is the verified load before the start sample (default 5 s).
	Warmup time.Duration
	// Connections is the number of clients of each load group (default 2).
	Connections int
	// ThinkTime is each client's pause between requests (default 20 ms):
	// the load is a robustness load, not a benchmark.
	ThinkTime time.Duration
	// FaultPeriod is the time between two scheduled faults (default 5 s;
	// shorter when the run is too short to inject every kind).
	FaultPeriod time.Duration
	// Seed makes the fault schedule, the load and the fault targets
	// repeatable (default 1).
	Seed uint64
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Archive is the checkout's results/ directory ("" outside a
	// checkout): a run whose build is not clean is refused there unless
	// AllowDirty. Every document of such a run is marked dirty.
	Archive    string
	AllowDirty bool

	// Test hooks: onLoad gets the servers' process ids when the load
	// starts, beforeReport the intervals folder before the read-back;
	// settleEnd replaces settleEnd.
	onLoad       func(pids map[string]int)
	beforeReport func(intervalsDir string)
	settleEnd    time.Duration
}

// withDefaults validates o and fills in its defaults.
func (o Options) withDefaults(now time.Time) (Options, error) {
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Warmup == 0 {
		o.Warmup = DefaultWarmup
	}
	if o.Connections == 0 {
		o.Connections = DefaultConnections
	}
	if o.ThinkTime == 0 {
		o.ThinkTime = DefaultThinkTime
	}
	if o.FaultPeriod == 0 {
		o.FaultPeriod = DefaultFaultPeriod
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.FileSetDir == "" {
		o.FileSetDir = DefaultFileSetDir
	}
	if o.OutDir == "" {
		o.OutDir = filepath.Join("results", "soak", now.UTC().Format("20060102T150405Z"))
	}
	if len(o.Archs) == 0 {
		o.Archs = slices.Clone(Archs)
	}
	if o.settleEnd == 0 {
		o.settleEnd = settleEnd
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if err := o.validate(); err != nil {
		return o, fmt.Errorf("soak: %w", err)
	}
	return o, nil
}

func (o Options) validate() error {
	switch {
	case o.Duration < 5*time.Second:
		return fmt.Errorf("duration %v: want at least 5s", o.Duration)
	case o.Interval < time.Second:
		return fmt.Errorf("interval %v: want at least 1s", o.Interval)
	case o.Warmup < 0 || o.ThinkTime < 0 || o.FaultPeriod < 0:
		return errors.New("durations must not be negative")
	case o.Connections < 1 || o.Connections > 64:
		return fmt.Errorf("connections %d: want 1 to 64", o.Connections)
	case o.BinDir == "":
		return errors.New("no bin directory")
	}
	seen := map[string]bool{}
	for _, a := range o.Archs {
		if !slices.Contains(Archs, a) {
			return fmt.Errorf("unknown architecture %q (want some of %v)", a, Archs)
		}
		if seen[a] {
			return fmt.Errorf("architecture %q given twice", a)
		}
		seen[a] = true
	}
	for _, p := range []string{filepath.Join(o.BinDir, "webserver"), filepath.Join(o.BinDir, "cgi-bin")} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (run make build, or give the bin directory)", err)
		}
	}
	return nil
}

// archSpec is what the run knows of one architecture: its flags and the
// processes it may have.
type archSpec struct {
	name string
	// workers is the number of prefork workers (0 elsewhere).
	workers int
	// helpers bounds the AMPED helpers (0 for the others).
	helpers int
	// forks reports a process per connection (forking).
	forks bool
}

// specFor returns the spec of arch.
func specFor(arch string) archSpec {
	s := archSpec{name: arch}
	switch arch {
	case "prefork":
		s.workers = preforkWorkers
	case "amped", "flashlite":
		s.helpers = ampedHelpers
	case "forking":
		s.forks = true
	}
	return s
}

// args are the webserver flags of arch, beyond --arch, --root and --listen.
func (s archSpec) args(cgiDir, statsFile string) []string {
	a := []string{"--stats-file", statsFile, "--cgi-dir", cgiDir,
		"--cgi-procs", strconv.Itoa(cgiProcs), "--shutdown-timeout", shutdownTimeout.String()}
	switch s.name {
	case "prefork":
		a = append(a, "--workers", strconv.Itoa(s.workers))
	case "threaded":
		a = append(a, "--threads", strconv.Itoa(threadedPool))
	case "amped", "flashlite":
		a = append(a, "--helpers", strconv.Itoa(s.helpers))
	case "forking":
		a = append(a, "--max-children", strconv.Itoa(forkingMax))
	}
	return a
}

// maxCGI bounds the persistent CGI processes arch may have once its
// connections are closed: cgiProcs per program per serving process.
func (s archSpec) maxCGI() int {
	return cgiPrograms * cgiProcs * max(s.workers, 1)
}
