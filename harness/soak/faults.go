package soak

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"flashbench/loadgen"
)

// The fault kinds.
const (
	FaultSlowloris  = "slowloris"
	FaultSlowReader = "slow-reader"
	FaultReset      = "reset"
	FaultHalfClose  = "half-close"
	FaultGarbage    = "garbage"
	FaultFDPressure = "fd-pressure"
	FaultTruncate   = "file-truncate"
	FaultReplace    = "file-replace"
	FaultDelete     = "file-delete"
	FaultKillWorker = "kill-worker"
	FaultKillHelper = "kill-helper"
	FaultKillCGI    = "kill-cgi"
	// FaultShutdown is the graceful shutdown every server gets at the end.
	FaultShutdown = "graceful-shutdown"
)

// explainGrace is how long after a fault's end the errors of its
// architecture are still put down to it: a request that was waiting when
// the fault ended may time out that much later.
const explainGrace = requestTimeout + 2*time.Second

// Fault is one injected fault as the report shows it.
type Fault struct {
	Kind string `json:"kind"`
	Arch string `json:"arch"`
	// AtS is when it started, in seconds from the start of the load.
	AtS       float64 `json:"at_s"`
	DurationS float64 `json:"duration_s"`
	// TargetPID is the process a kill or descriptor pressure hit.
	TargetPID int `json:"target_pid,omitempty"`
	// Skipped reports a fault that found nothing to act on (no helper
	// alive to kill, say); Outcome says what happened either way.
	Skipped bool   `json:"skipped"`
	Outcome string `json:"outcome"`
	// Finding is a departure from the expected behaviour seen by the
	// fault's own client (a corrupt body, a server that kept a stale
	// file): reported, not a failure of the run.
	Finding string `json:"finding,omitempty"`

	start, end time.Time
	explains   []loadgen.ErrorClass
}

// covers reports whether the fault explains an error of class seen
// between from and to.
func (f *Fault) covers(class loadgen.ErrorClass, from, to time.Time) bool {
	if f.start.IsZero() || !slices.Contains(f.explains, class) {
		return false
	}
	return !to.Before(f.start) && !from.After(f.end.Add(explainGrace))
}

// faultKind is one kind of fault: where it applies, which load errors it
// explains on its architecture, and how to inject it.
type faultKind struct {
	name     string
	applies  func(archSpec) bool
	explains []loadgen.ErrorClass
	inject   func(ctx context.Context, e *faultEnv, f *Fault)
}

func anyArch(archSpec) bool { return true }

// Classes of errors that faults explain.
var (
	slowClasses = []loadgen.ErrorClass{loadgen.Timeout, loadgen.ConnectTimeout}
	// Descriptor pressure: accepts, file opens and CGI spawns fail.
	pressureClasses = []loadgen.ErrorClass{loadgen.ConnectTimeout, loadgen.Timeout, loadgen.Reset,
		loadgen.ReadError, loadgen.WriteError, loadgen.BadStatus, loadgen.ShortBody}
	// A killed worker takes its connections with it.
	workerClasses = []loadgen.ErrorClass{loadgen.Reset, loadgen.ReadError, loadgen.WriteError, loadgen.ShortBody}
	// A job of a killed helper is retried once, else answered 5xx.
	helperClasses = []loadgen.ErrorClass{loadgen.BadStatus, loadgen.Timeout}
	// A request of a killed CGI process is answered 502 or cut short.
	cgiClasses = []loadgen.ErrorClass{loadgen.BadStatus, loadgen.ShortBody, loadgen.ReadError, loadgen.Reset}
)

// faultKinds are the scheduled kinds (the graceful shutdown comes last,
// on every server, outside the schedule).
var faultKinds = []faultKind{
	{FaultSlowloris, anyArch, slowClasses, injectSlowloris},
	{FaultSlowReader, anyArch, slowClasses, injectSlowReader},
	{FaultReset, anyArch, nil, injectReset},
	{FaultHalfClose, anyArch, nil, injectHalfClose},
	{FaultGarbage, anyArch, nil, injectGarbage},
	{FaultFDPressure, anyArch, pressureClasses, injectFDPressure},
	{FaultTruncate, anyArch, nil, injectFileFault},
	{FaultReplace, anyArch, nil, injectFileFault},
	{FaultDelete, anyArch, nil, injectFileFault},
	{FaultKillWorker, func(s archSpec) bool { return s.workers > 0 }, workerClasses, injectKillWorker},
	{FaultKillHelper, func(s archSpec) bool { return s.helpers > 0 }, helperClasses, injectKillHelper},
	{FaultKillCGI, anyArch, cgiClasses, injectKillCGI},
}

// scheduled is one entry of the schedule.
type scheduled struct {
	at   time.Duration // from the start of the load
	kind *faultKind
	arch string
}

// faultWindow is the part of a load of duration d in which faults start:
// after a quiet start, and early enough that the servers have time to
// recover before the end sample.
func faultWindow(d time.Duration) (from, to time.Duration) {
	return min(5*time.Second, d/10), d - min(15*time.Second, d/4)
}

// schedule lays out the faults of a load of duration d over archs: one
// every period (more often if needed to inject every applicable kind at
// least once), kinds in a seeded order that every round reshuffles, each
// kind rotating over the architectures it applies to.
func schedule(archs []archSpec, seed uint64, d, period time.Duration) []scheduled {
	rng := rand.New(rand.NewPCG(seed, 0x5afe))
	var kinds []*faultKind
	targets := map[string][]string{}
	for i := range faultKinds {
		k := &faultKinds[i]
		for _, a := range archs {
			if k.applies(a) {
				targets[k.name] = append(targets[k.name], a.name)
			}
		}
		if len(targets[k.name]) > 0 {
			kinds = append(kinds, k)
		}
	}
	from, to := faultWindow(d)
	n := max(len(kinds), int((to-from)/max(period, time.Millisecond)))
	if len(kinds) == 0 {
		return nil
	}
	next := map[string]int{}
	for _, k := range kinds {
		next[k.name] = rng.IntN(len(targets[k.name]))
	}
	var out []scheduled
	var round []*faultKind
	for i := range n {
		if len(round) == 0 {
			round = slices.Clone(kinds)
			rng.Shuffle(len(round), func(a, b int) { round[a], round[b] = round[b], round[a] })
		}
		k := round[0]
		round = round[1:]
		ts := targets[k.name]
		out = append(out, scheduled{at: from + (to-from)*time.Duration(i)/time.Duration(n), kind: k, arch: ts[next[k.name]%len(ts)]})
		next[k.name]++
	}
	return out
}
