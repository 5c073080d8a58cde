package soak

import (
	"fmt"
	"strings"
	"time"

	"flashbench/loadgen"
	"flashbench/results"
)

// The bounds of the verdict.
const (
	// fdSlack is how many descriptors (docroot files aside) the core
	// processes may hold at the end beyond the start.
	fdSlack = 8
	// fdsPerOnDemand is how many descriptors each helper, CGI program or
	// forking child more than at the start may hold in its parent (two
	// pipes and a pidfd, a shared-memory pool).
	fdsPerOnDemand = 4
	// rssGrowthBytes and rssGrowthFactor bound the core processes'
	// anonymous memory at the end: at most start*factor or start+bytes,
	// whichever is larger.
	rssGrowthBytes  = 64 << 20
	rssGrowthFactor = 2
)

// sampleProblems checks an end sample of a against its start sample.
func (r *run) sampleProblems(a *archRun, start, end Sample) []string {
	if !end.Alive {
		return []string{"server not running at the end"}
	}
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	allowed := start.FDsCoreNonFile + fdSlack + fdsPerOnDemand*max(0, end.onDemand()-start.onDemand())
	if end.FDsCoreNonFile > allowed {
		add("descriptors (cached files aside) grew from %d to %d, over the %d allowed", start.FDsCoreNonFile, end.FDsCoreNonFile, allowed)
	}
	if end.DuplicateFileFDs > 0 {
		add("%d descriptors of docroot files that one process already holds open (a cache holds a file once)", end.DuplicateFileFDs)
	}
	if maxDeleted := r.changedFiles(a) * (1 + a.spec.workers); end.DeletedFileFDs > maxDeleted {
		add("%d descriptors of deleted files, over the %d files the faults changed", end.DeletedFileFDs, maxDeleted)
	}
	if end.Zombies > 0 {
		add("%d zombie processes", end.Zombies)
	}
	if end.Orphans > 0 {
		add("%d orphaned processes of its process group", end.Orphans)
	}
	p = append(p, processProblems(a.spec, end)...)
	if limit := max(rssGrowthFactor*start.RSSAnonCoreBytes, start.RSSAnonCoreBytes+rssGrowthBytes); end.RSSAnonCoreBytes > limit {
		add("anonymous memory grew from %s to %s, over the bound of %s", mib(start.RSSAnonCoreBytes), mib(end.RSSAnonCoreBytes), mib(limit))
	}
	return p
}

// processProblems checks the processes of an end sample: the server and
// its full prefork pool; helpers and CGI programs come and go with demand,
// within their bounds; no forking child once no connection is open.
func processProblems(spec archSpec, end Sample) []string {
	var p []string
	k := end.ByKind
	if k[kindWorker] != spec.workers {
		p = append(p, fmt.Sprintf("%d prefork workers, want %d", k[kindWorker], spec.workers))
	}
	if k[kindHelper] > spec.helpers {
		p = append(p, fmt.Sprintf("%d helpers, want at most %d", k[kindHelper], spec.helpers))
	}
	if k[kindCGI] > spec.maxCGI() {
		p = append(p, fmt.Sprintf("%d CGI processes, want at most %d", k[kindCGI], spec.maxCGI()))
	}
	if k[kindChild] > 0 {
		p = append(p, fmt.Sprintf("%d forking children with no connection open", k[kindChild]))
	}
	if k[kindOther] > 0 {
		p = append(p, fmt.Sprintf("%d processes of no known kind", k[kindOther]))
	}
	return p
}

// changedFiles counts the scratch files the faults changed on a, each
// of which a cache may hold open after its deletion.
func (r *run) changedFiles(a *archRun) int {
	n := 1 // the graceful shutdown's download
	for _, f := range r.faults {
		if f.Arch == a.spec.name && strings.HasPrefix(f.Kind, "file-") {
			n++
		}
	}
	return n
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// attribute splits a's load errors into those the faults on a explain
// and the rest.
func (r *run) attribute(a *archRun) (explained, unexplained results.Errors) {
	for _, s := range a.errSeconds {
		for c, n := range s.errs {
			if n == 0 {
				continue
			}
			class := loadgen.ErrorClass(c)
			name := results.ErrorClass(class.String())
			if r.explained(a, class, s.from.Add(-time.Second), s.to.Add(time.Second)) {
				explained.Add(name, n)
			} else {
				unexplained.Add(name, n)
			}
		}
	}
	return explained, unexplained
}

// explained reports whether a fault on a explains an error of class
// between from and to.
func (r *run) explained(a *archRun, class loadgen.ErrorClass, from, to time.Time) bool {
	for _, f := range r.faults {
		if f.Arch == a.spec.name && f.covers(class, from, to) {
			return true
		}
	}
	return false
}

// exitExplained reports whether a worker or helper that disappeared was
// killed by a fault, or fell to descriptor pressure.
func (r *run) exitExplained(a *archRun, x childExit) bool {
	if r.killed[x.pid] {
		return true
	}
	for _, f := range r.faults {
		if f.Arch == a.spec.name && f.Kind == FaultFDPressure && !f.start.IsZero() &&
			!x.at.Before(f.start) && !x.at.After(f.end.Add(explainGrace)) {
			return true
		}
	}
	return false
}

// verdict returns the failures of a, one line each.
func (r *run) verdict(a *archRun, ar *ArchReport, interrupted bool) []string {
	var fails []string
	add := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	if a.srv.crashed() {
		when := "before the load"
		if !r.t0.IsZero() {
			when = fmt.Sprintf("%.1fs into the load", r.since(a.srv.exitAt))
		}
		add("crashed: the server exited (%v) %s", a.srv.exitErr, when)
	}
	for _, e := range a.loadErrs {
		add("load: %s", e)
	}
	if n := a.warmup.Errors.Total(); n > 0 {
		add("warm-up: %d errors (%s)", n, classList(a.warmup.Errors.Result()))
	}
	for _, x := range ar.ChildExits {
		if !x.Explained {
			add("%s %d exited %.1fs into the load with no fault to explain it", x.Kind, x.PID, x.AtS)
		}
	}
	if ar.ErrorsUnexplained.Total() > 0 {
		add("errors no injected fault explains: %s", classList(ar.ErrorsUnexplained))
	}
	if ar.Requests == 0 {
		add("served no requests")
	}
	if interrupted {
		return fails
	}
	fails = append(fails, r.sampleProblems(a, a.start, a.end)...)
	return append(fails, shutdownProblems(a.shutdown)...)
}

// shutdownProblems checks the graceful shutdown at the end.
func shutdownProblems(sh *Shutdown) []string {
	if sh == nil {
		return []string{"graceful shutdown: not made"}
	}
	var p []string
	if sh.Error != "" {
		p = append(p, "graceful shutdown: "+sh.Error)
	}
	switch {
	case sh.ExitStatus == nil && sh.Error == "":
		p = append(p, "graceful shutdown: the server did not exit")
	case sh.ExitStatus != nil && *sh.ExitStatus != 0:
		p = append(p, fmt.Sprintf("graceful shutdown: exit status %d, want 0", *sh.ExitStatus))
	}
	if sh.Completed < sh.InFlight {
		p = append(p, fmt.Sprintf("graceful shutdown: %d of %d requests in flight completed (%s)",
			sh.Completed, sh.InFlight, strings.Join(sh.Downloads, "; ")))
	}
	if sh.Outlived > 0 {
		p = append(p, fmt.Sprintf("graceful shutdown: %d processes outlived the server", sh.Outlived))
	}
	return p
}

// classList renders the non-zero classes of e: "reset 3, timeout 1".
func classList(e results.Errors) string {
	var parts []string
	for _, c := range results.ErrorClasses() {
		if n, _ := e.Count(c); n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
