package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"flashbench/fileset"
	"flashbench/harness/topology"
	"flashbench/internal/provenance"
	"flashbench/results"
)

// Options configures a run of an experiment.
type Options struct {
	Experiment *Experiment
	Topology   topology.Topology
	// BinDir holds the webserver and loadgen binaries.
	BinDir string
	// OutDir is the results root: the run goes to OutDir/<experiment>/<timestamp>.
	OutDir string
	// FileSetDir caches the generated file sets between runs. Real servers
	// read them as www-data, so every directory on the way must be
	// traversable by other users (/var/tmp is).
	FileSetDir string
	// Archs, when set, replaces the experiment's architectures.
	Archs []string
	// Values, when set, measures only these values of the experiment's
	// sweep, written as the experiment writes them ("268435456").
	Values []string
	// Trials, Duration and Warmup, when positive, override the experiment's;
	// zero leaves the experiment's, and a negative one is an error.
	Trials           int
	Duration, Warmup time.Duration
	// AllowSaturatedClient keeps points whose client was saturated.
	AllowSaturatedClient bool
	// ServerCPU, when positive, overrides the experiment's server_cpu:
	// the server's CPU budget in cores (MinServerCPU..1; 1: no quota).
	ServerCPU float64
	// Quick shrinks durations to a fraction of a second and trials to one
	// (for tests), unless set explicitly.
	Quick bool
	// Hosts are addresses besides loopback and 198.18.0.0/15 the harness
	// may send load to.
	Hosts []netip.Addr
	// Log receives one line per point and every notice; Progress, when
	// set, shows a progress bar over the whole matrix (a terminal).
	Log, Progress io.Writer
	// StartTimeout bounds a server's start, StopTimeout its graceful stop.
	StartTimeout, StopTimeout time.Duration
	// BaseBinDir, when set, holds the webserver of another build (the
	// base) to compare with: every webserver architecture of the run also
	// runs from it as ARCH@base (BaseSuffix), in the same rounds, and the
	// ratios ARCH/ARCH@base are reported. Local and netns topologies only.
	BaseBinDir string
	// Archive is the checkout's results/ directory ("" outside a
	// checkout): a run whose build is not clean (binaries without
	// version-control information, from a modified tree or from different
	// commits) is refused there unless AllowDirty. Every document of such
	// a run, wherever it goes, is marked dirty.
	Archive    string
	AllowDirty bool
	// Syscalls, when set, replaces the experiment's [syscalls] requests:
	// each contender's system calls are counted over that many requests
	// after the measured rounds; 0 counts none.
	Syscalls *int
}

// SkipError reports an experiment this machine cannot run (no root for a
// memory cgroup, ...): not a failure, one line of explanation.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return e.Reason }

// Outcome is what a run leaves: its directory, its index, the measured
// results by point ID and the system call counts, in the order they were
// made.
type Outcome struct {
	Dir      string
	Index    *Index
	Results  map[string]*results.Result
	Syscalls []*results.Syscalls
}

// runner is one run in progress.
type runner struct {
	o         Options
	e         *Experiment
	load      Load
	dir, work string
	prov      results.Provenance
	webArchs  map[string]bool
	// baseArchs are the architectures of the base build's webserver.
	baseArchs map[string]bool
	manifests map[string]*fileset.Manifest
	ix        *Index
	out       *Outcome
	budget    budget
	bar       *progressbar.ProgressBar
	done      int
	total     int
	// stopped is why the run cannot go on (the results cannot be
	// written), or nil.
	stopped error
	// syscalls is the requests of each contender's system call count, 0
	// for none.
	syscalls int
}

// Execute runs the experiment: every cell's server is started, verified and
// warmed up, and then measured trial by trial, in interleaved rounds
// (rounds.go). A cancelled ctx stops the
// run cleanly: processes are reaped, the finished points kept, and the
// index marked interrupted. The error is about the run as a whole; points
// that fail (a server that does not start, or exits during a trial) are
// recorded as failed and the run goes on. Results that cannot be written
// (a full disk) stop the run: the points written so far stay as they are,
// and the error says why.
func Execute(ctx context.Context, o Options) (*Outcome, error) {
	r, err := newRunner(o)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(r.work)
	if err := writeIndex(r.dir, r.ix); err != nil {
		os.Remove(r.dir) // empty: nothing of the run to keep
		return nil, fmt.Errorf("run: the results cannot be written: %w", err)
	}
	cells := r.e.Cells(r.archs())
	r.total = len(cells) * r.load.Trials
	r.startBar()
	for _, block := range r.blocks(cells) {
		if ctx.Err() != nil || r.stopped != nil {
			break
		}
		r.runBlock(ctx, cells, block)
		r.countSyscalls(ctx, cells, block)
	}
	r.ix.FinishedAt = time.Now().UTC()
	r.ix.Interrupted = ctx.Err() != nil
	if r.bar != nil {
		r.bar.Finish()
		fmt.Fprintln(r.o.Progress)
	}
	err = writeIndex(r.dir, r.ix)
	if r.stopped != nil {
		return r.out, fmt.Errorf("run: stopped, the results cannot be written: %w", r.stopped)
	}
	if err != nil {
		return r.out, fmt.Errorf("run: %w", err)
	}
	return r.out, nil
}

// stopRun stops the run after the current cell's trial: its results
// cannot be written.
func (r *runner) stopRun(err error) {
	if r.stopped == nil {
		r.stopped = err
	}
}

func newRunner(o Options) (*runner, error) {
	if o.Experiment == nil || o.Topology == nil {
		return nil, errors.New("run: experiment and topology required")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 15 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 10 * time.Second
	}
	if err := CheckTarget(o.Topology.ServerAddr(), o.Hosts); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	if o.Trials < 0 || o.Duration < 0 || o.Warmup < 0 {
		return nil, fmt.Errorf("run: trials %d, duration %v, warmup %v: want none negative", o.Trials, o.Duration, o.Warmup)
	}
	r := &runner{o: o, e: o.Experiment, load: effectiveLoad(o), manifests: map[string]*fileset.Manifest{}}
	if len(o.Values) > 0 {
		e, err := o.Experiment.SweepSubset(o.Values)
		if err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
		r.e = e
	}
	if err := r.load.validate(); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	if err := r.setSyscalls(); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	r.prov = Provenance(o.Topology, o.BinDir, o.BaseBinDir, r.archs())
	if err := provenance.CheckArchive(r.prov, o.OutDir, o.Archive, o.AllowDirty); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	if _, remote := o.Topology.(topology.Remote); remote && r.e.Memory != nil {
		what := "memory cgroups need"
		if r.e.Disk != nil {
			what = "memory cgroups and the slowdisk device need"
		}
		return nil, &SkipError{Reason: fmt.Sprintf("%s: skipped: %s the local or netns topology", r.e.Name, what)}
	}
	if r.e.Memory != nil {
		if _, err := CgroupVersion(); err != nil || os.Geteuid() != 0 {
			if err == nil {
				err = errors.New("needs root to bound the server's memory with a cgroup")
			}
			return nil, &SkipError{Reason: fmt.Sprintf("%s: skipped: %v", r.e.Name, err)}
		}
		if _, err := SweepCgroups(); err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
	}
	if err := r.setBudget(); err != nil {
		return nil, err
	}
	if err := r.checkDisk(); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if _, err := SweepMounts(); err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
	}
	var err error
	if r.webArchs, err = webserverArchs(filepath.Join(o.BinDir, "webserver")); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	if o.BaseBinDir != "" {
		if _, remote := o.Topology.(topology.Remote); remote {
			return nil, errors.New("run: a base build runs on the local and netns topologies only")
		}
		if r.baseArchs, err = webserverArchs(filepath.Join(o.BaseBinDir, "webserver")); err != nil {
			return nil, fmt.Errorf("run: base build: %w", err)
		}
	}
	if rem, ok := o.Topology.(topology.Remote); ok {
		if err := rem.Install(o.BinDir); err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
	}
	raiseNoFile()
	start := time.Now().UTC()
	if r.dir, err = MakeRunDir(filepath.Join(o.OutDir, r.e.Name), start); err != nil {
		return nil, err
	}
	if r.work, err = os.MkdirTemp("", "flashbench-run-"); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	os.Chmod(r.work, 0o755)
	r.ix = &Index{SchemaVersion: IndexSchemaVersion, Experiment: r.e.Name, StartedAt: start,
		Topology: o.Topology.Name(), ExperimentFile: r.e.Source, Points: []PointEntry{}, Provenance: &r.prov}
	r.out = &Outcome{Dir: r.dir, Index: r.ix, Results: map[string]*results.Result{}}
	return r, nil
}

// effectiveLoad applies the run's overrides to the experiment's load.
func effectiveLoad(o Options) Load {
	l := o.Experiment.Load
	if o.Quick {
		l.Trials, l.Duration.Duration, l.Warmup.Duration = 1, 500*time.Millisecond, 200*time.Millisecond
	}
	if o.AllowSaturatedClient {
		l.AllowSaturatedClient = true
	}
	if o.Trials > 0 {
		l.Trials = o.Trials
	}
	if o.Duration > 0 {
		l.Duration.Duration = o.Duration
	}
	if o.Warmup > 0 {
		l.Warmup.Duration = o.Warmup
	}
	if o.ServerCPU > 0 {
		l.ServerCPU = o.ServerCPU
	}
	return l
}

func (r *runner) archs() []string {
	archs := r.e.Archs
	if len(r.o.Archs) > 0 {
		archs = r.o.Archs
	}
	if r.o.BaseBinDir != "" {
		return withBase(archs)
	}
	return archs
}

// MakeRunDir creates dir/<timestamp> from t (give it in UTC), waiting
// for the next second if a run of the same second has it.
func MakeRunDir(dir string, t time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("run: %w", err)
	}
	for i := 0; i < 5; i++ {
		d := filepath.Join(dir, t.Add(time.Duration(i)*time.Second).Format("20060102T150405Z"))
		err := os.Mkdir(d, 0o755)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("run: %w", err)
		}
	}
	return "", fmt.Errorf("run: %s: a run directory exists for every second tried", dir)
}

// raiseNoFile lifts the soft descriptor limit to the hard one, for the
// servers and clients the harness starts (thousands of connections).
func raiseNoFile() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// noFileLimit returns the soft descriptor limit children inherit.
func noFileLimit() uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 1024
	}
	return lim.Cur
}

// record adds a point to the index, rewrites run.json and moves the bar.
func (r *runner) record(p PointEntry) {
	r.ix.Points = append(r.ix.Points, p)
	if err := writeIndex(r.dir, r.ix); err != nil {
		r.stopRun(err)
	}
	r.done++
	line := fmt.Sprintf("[%d/%d] %s: %s", r.done, r.total, p.ID, p.Status)
	if p.Status == StatusOK {
		if res := r.out.Results[p.ID]; res != nil {
			line += fmt.Sprintf(" %.0f req/s", res.ThroughputRPS) + hostNote(res)
		}
	} else if p.Reason != "" {
		line += ": " + p.Reason
	}
	if p.Status != StatusOK && p.Result != "" {
		line += " (its result is kept: " + p.Result + ")"
	}
	r.logf("%s", line)
	if r.bar != nil {
		r.bar.Add(1)
	}
}

func (r *runner) startBar() {
	if r.o.Progress == nil {
		return
	}
	r.bar = progressbar.NewOptions(r.total,
		progressbar.OptionSetWriter(r.o.Progress), progressbar.OptionSetDescription(r.e.Name),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true), progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond))
	r.bar.RenderBlank()
}

// logf prints a line to the log without tearing the progress bar.
func (r *runner) logf(format string, args ...any) {
	if r.bar != nil {
		r.bar.Clear()
	}
	fmt.Fprintf(r.o.Log, format+"\n", args...)
	if r.bar != nil {
		r.bar.RenderBlank()
	}
}
