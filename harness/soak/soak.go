package soak

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"flashbench/internal/provenance"
	"flashbench/loadgen"
	"flashbench/results"
)

// run is the state of one soak run.
type run struct {
	o            Options
	intervalsDir string
	serversDir   string
	root         *docroot
	cgiDir       string
	cgiReqs      []cgiRequest
	// prov is the provenance of the report and of every interval.
	prov      results.Provenance
	archs     []*archRun
	startedAt time.Time
	// t0 is the start of the load; loadEnd its planned end.
	t0, loadEnd time.Time

	logMu   sync.Mutex
	mu      sync.Mutex
	faults  []*Fault
	killed  map[int]bool
	records []*intervalRecord
	// hostLoad is the intervals' host load at its worst, over
	// hostLoads intervals.
	hostLoad  *results.HostLoad
	hostLoads int
}

// archRun is the state of one architecture's server during the run.
type archRun struct {
	spec archSpec
	srv  *server

	mu         sync.Mutex
	groups     map[string]*GroupTotals
	errSeconds []errSecond
	warmup     loadgen.Counts
	loadErrs   []string
	exits      []childExit
	start, end Sample
	shutdown   *Shutdown
	scratch    atomic.Int64
}

// errSecond is one second of a load interval with errors in it.
type errSecond struct {
	from, to time.Time
	errs     loadgen.Errors
}

// childExit is a worker or helper that disappeared during the load.
type childExit struct {
	at   time.Time
	pid  int
	kind string
}

// Run runs the soak o describes and returns its report, also written as
// soak.json and soak.md in o.OutDir. A failed run is a report with
// Passed false and its reasons; an error means the run could not be made.
// A cancelled ctx stops everything, reaps every server and keeps what was
// measured: the report is marked interrupted.
func Run(ctx context.Context, o Options) (*Report, error) {
	o, err := o.withDefaults(time.Now())
	if err != nil {
		return nil, err
	}
	prov, err := runProvenance(o.BinDir)
	if err != nil {
		return nil, err
	}
	if err := provenance.CheckArchive(prov, o.OutDir, o.Archive, o.AllowDirty); err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	r, err := newRun(o)
	if err != nil {
		return nil, err
	}
	r.prov = prov
	defer r.cleanup()
	if err := r.startServers(ctx); err != nil {
		return nil, err
	}
	r.logf("%d servers up; warming up for %v", len(r.archs), o.Warmup)
	r.warmupAll(ctx)
	r.sampleAll(ctx, false)
	r.logf("start sampled; load for %v with %d faults scheduled", o.Duration, len(r.schedule()))
	r.runLoad(ctx)
	r.logf("load done; waiting for the servers to settle")
	r.sampleAll(ctx, true)
	r.logf("end sampled; graceful shutdown with requests in flight")
	r.shutdownAll(ctx)
	if o.beforeReport != nil {
		o.beforeReport(r.intervalsDir)
	}
	rep := r.report(ctx.Err() != nil)
	if err := rep.write(o.OutDir); err != nil {
		return rep, err
	}
	return rep, nil
}

// runProvenance is what every document of the run says of its machine
// and build: the harness's, the webserver's and the CGI programs' build
// information, the sysctls, the local topology.
func runProvenance(binDir string) (results.Provenance, error) {
	progs := []string{"webserver"}
	cgi, err := os.ReadDir(filepath.Join(binDir, "cgi-bin"))
	if err != nil {
		return results.Provenance{}, fmt.Errorf("soak: %w", err)
	}
	for _, e := range cgi {
		if !e.IsDir() {
			progs = append(progs, "cgi-bin/"+e.Name())
		}
	}
	p := provenance.Machine()
	p.Topology, p.Sysctls = results.TopologyLocal, provenance.Sysctls()
	provenance.SetBuild(&p, provenance.Binaries("harness", binDir, progs...))
	return p, nil
}

// newRun makes the output folders, the docroot and the CGI requests.
func newRun(o Options) (*run, error) {
	r := &run{o: o, killed: map[int]bool{}, startedAt: time.Now()}
	r.intervalsDir = filepath.Join(o.OutDir, "intervals")
	r.serversDir = filepath.Join(o.OutDir, "servers")
	for _, d := range []string{r.intervalsDir, r.serversDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("soak: %w", err)
		}
	}
	bin, err := filepath.Abs(o.BinDir)
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	r.o.BinDir, r.cgiDir = bin, filepath.Join(bin, "cgi-bin")
	if r.root, err = prepareDocroot(o.FileSetDir); err != nil {
		return nil, err
	}
	if r.cgiReqs, err = cgiRequests(r.root.dir); err != nil {
		r.root.remove()
		return nil, err
	}
	return r, nil
}

// startServers starts every architecture's server, all at once.
func (r *run) startServers(ctx context.Context) error {
	r.archs = make([]*archRun, len(r.o.Archs))
	errs := make([]error, len(r.o.Archs))
	var wg sync.WaitGroup
	for i, arch := range r.o.Archs {
		r.archs[i] = &archRun{spec: specFor(arch), groups: map[string]*GroupTotals{}}
		if err := os.MkdirAll(filepath.Join(r.intervalsDir, arch), 0o755); err != nil {
			return fmt.Errorf("soak: %w", err)
		}
		wg.Go(func() {
			r.archs[i].srv, errs[i] = startServer(ctx, r.o.BinDir, arch, r.root.dir, r.cgiDir, r.serversDir)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// cleanup stops whatever server is still running (Ctrl-C, a panic, an
// early error), reaping each, and removes the docroot.
func (r *run) cleanup() {
	var wg sync.WaitGroup
	for _, a := range r.archs {
		if a != nil && a.srv != nil && !a.srv.exited() {
			wg.Go(func() { a.srv.stop(3 * time.Second) })
		}
	}
	wg.Wait()
	if r.root != nil {
		r.root.remove()
	}
}

// eachArch runs fn for every architecture concurrently and waits.
func (r *run) eachArch(fn func(a *archRun)) {
	var wg sync.WaitGroup
	for _, a := range r.archs {
		wg.Go(func() { fn(a) })
	}
	wg.Wait()
}

// runLoad runs the load groups of every architecture, the fault schedule
// and the process monitor, until the load's end (or ctx's).
func (r *run) runLoad(ctx context.Context) {
	r.t0 = time.Now()
	r.loadEnd = r.t0.Add(r.o.Duration)
	if r.o.onLoad != nil {
		pids := map[string]int{}
		for _, a := range r.archs {
			pids[a.spec.name] = a.srv.pid
		}
		r.o.onLoad(pids)
	}
	lctx, cancel := context.WithDeadline(ctx, r.loadEnd.Add(requestTimeout+10*time.Second))
	defer cancel()
	var wg sync.WaitGroup
	for _, a := range r.archs {
		for gi, g := range groups {
			wg.Go(func() { r.runGroup(lctx, a, g, gi) })
		}
	}
	mctx, stopMonitor := context.WithCancel(lctx)
	var mwg sync.WaitGroup
	mwg.Go(func() { r.monitor(mctx) })
	r.injectAll(lctx)
	wg.Wait()
	stopMonitor()
	mwg.Wait()
}

func (r *run) logf(format string, args ...any) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	fmt.Fprintf(r.o.Log, "soak: "+format+"\n", args...)
}

// since returns t in seconds from the start of the load.
func (r *run) since(t time.Time) float64 { return t.Sub(r.t0).Seconds() }
