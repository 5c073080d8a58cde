// Package provenance gathers what a flashbench document says about where
// and from what it was made: the machine (kernel, CPU, Go), the build
// information of every program of the run, the versions of the real
// servers it used, and how busy the machine was during a measurement.
// It also decides whether a run may be archived into the checkout's
// results/ directory.
package provenance

import (
	"debug/buildinfo"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"flashbench/results"
)

// Self returns the build information of the running program. A program
// built by go test or go run, or outside a git checkout, carries no
// version-control information: its revision is "unknown".
func Self() results.Binary {
	path, _ := os.Executable()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return results.Binary{Path: path, VCSRevision: results.RevisionUnknown}
	}
	return fromBuildInfo(path, bi)
}

// File returns the build information of the Go program at path. A file
// that is not a Go program, or cannot be read, has revision "unknown"
// and the error says why.
func File(path string) (results.Binary, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return results.Binary{Path: path, VCSRevision: results.RevisionUnknown},
			fmt.Errorf("provenance: build information of %s: %w", path, err)
	}
	return fromBuildInfo(path, bi), nil
}

// fromBuildInfo takes the vcs.* settings go build stamps into a program
// built inside a checkout (-buildvcs).
func fromBuildInfo(path string, bi *debug.BuildInfo) results.Binary {
	b := results.Binary{Path: path, GoVersion: bi.GoVersion, VCSRevision: results.RevisionUnknown}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.VCSRevision = s.Value
		case "vcs.modified":
			b.VCSModified = new(s.Value == "true")
		case "vcs.time":
			b.VCSTime = s.Value
		}
	}
	if b.VCSRevision == results.RevisionUnknown {
		b.VCSModified, b.VCSTime = nil, ""
	}
	return b
}

// SetBuild records bins in p and sets GitCommit, GitModified and Dirty
// from them: the one commit they were all built from, "unknown" when one
// of them carries none, "mixed" when they name different ones.
func SetBuild(p *results.Provenance, bins map[string]results.Binary) {
	p.Binaries = results.Map[results.Binary](bins)
	p.GitCommit, p.GitModified = commit(bins), new(false)
	for _, b := range bins {
		if b.VCSModified != nil && *b.VCSModified {
			*p.GitModified = true
		}
	}
	p.Dirty = *p.GitModified || p.GitCommit == results.RevisionUnknown || p.GitCommit == results.RevisionMixed
}

// SetBase records the base build's bins in p (a run comparing two builds,
// harness run --base) and marks p dirty unless they too come from one
// commit without uncommitted changes.
func SetBase(p *results.Provenance, bins map[string]results.Binary) {
	p.BaseBinaries = results.Map[results.Binary](bins)
	if rev := commit(bins); rev == results.RevisionUnknown || rev == results.RevisionMixed {
		p.Dirty = true
	}
	for _, b := range bins {
		if b.VCSModified != nil && *b.VCSModified {
			p.Dirty = true
		}
	}
}

func commit(bins map[string]results.Binary) string {
	if len(bins) == 0 {
		return results.RevisionUnknown
	}
	var revs []string
	for _, b := range bins {
		if b.VCSRevision == results.RevisionUnknown || b.VCSRevision == "" {
			return results.RevisionUnknown
		}
		if !slices.Contains(revs, b.VCSRevision) {
			revs = append(revs, b.VCSRevision)
		}
	}
	if len(revs) > 1 {
		return results.RevisionMixed
	}
	return revs[0]
}

// Why says in a few words why p's build is not clean ("" when it is):
// the binaries without version-control information, built from a
// modified tree, or the commits they disagree on.
func Why(p results.Provenance) string {
	var unknown, modified, revs []string
	for _, name := range slices.Sorted(maps.Keys(p.Binaries)) {
		b := p.Binaries[name]
		switch {
		case b.VCSRevision == results.RevisionUnknown || b.VCSRevision == "":
			unknown = append(unknown, name)
		case b.VCSModified != nil && *b.VCSModified:
			modified = append(modified, name)
		}
		if b.VCSRevision != results.RevisionUnknown && b.VCSRevision != "" {
			revs = append(revs, name+" "+short(b.VCSRevision))
		}
	}
	var why []string
	if len(unknown) > 0 {
		verb := " carries"
		if len(unknown) > 1 {
			verb = " carry"
		}
		why = append(why, strings.Join(unknown, ", ")+verb+" no version-control information (built outside a git checkout, by go run or go test, or with -buildvcs=false)")
	}
	if len(modified) > 0 {
		why = append(why, strings.Join(modified, ", ")+" built from a tree with uncommitted changes")
	}
	if p.GitCommit == results.RevisionMixed {
		why = append(why, "built from different commits ("+strings.Join(revs, ", ")+")")
	}
	if len(why) == 0 && !p.Clean() {
		why = append(why, "git_commit "+p.GitCommit)
	}
	return strings.Join(why, "; ")
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// Binaries returns the build information of the running program, under
// the name self, and of each of the programs names in dir that exists
// (a program dir lacks is not run, so not recorded).
func Binaries(self, dir string, names ...string) map[string]results.Binary {
	bins := map[string]results.Binary{self: Self()}
	for _, name := range names {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		bins[name], _ = File(path) // not a Go program: recorded as unknown
	}
	return bins
}

// Conditions says in two lines what a run's numbers were made from and
// on: the build (a dirty one says why), and how busy the machine was over
// its n measurements at worst (see results.WorstHostLoad), marked NOISY
// when that was too busy to take the numbers at face value. A line whose
// figures are unknown (p or worst nil) is left out.
func Conditions(p *results.Provenance, worst *results.HostLoad, n int) string {
	var b strings.Builder
	if p != nil {
		if p.Clean() {
			fmt.Fprintf(&b, "build: %s\n", p.GitCommit)
		} else {
			fmt.Fprintf(&b, "build: %s, DIRTY: %s\n", p.GitCommit, Why(*p))
		}
	}
	if worst != nil {
		fmt.Fprintf(&b, "host: over %d measurements, load average (1 min) up to %.2f, CPU steal up to %.1f%%",
			n, worst.LoadAverage1mMax, 100*worst.CPUStealFraction)
		cpus := 0
		if p != nil {
			cpus = p.CPUs
		}
		if why := worst.Noisy(cpus); why != "" {
			fmt.Fprintf(&b, "  NOISY: %s", why)
		}
		b.WriteString("\n")
	}
	return b.String()
}
