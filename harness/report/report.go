package report

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"flashbench/internal/atomicfile"
	"flashbench/results"
)

// Write reports on the run in runDir, with its related runs (run.json's
// related_runs) where they still exist: it writes runDir/report.md,
// runDir/report.html and runDir/plots/*.svg and *.png and returns the paths
// of the first two.
func Write(runDir string) (mdPath, htmlPath string, err error) {
	run, err := ReadRun(runDir)
	if err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	dirs := []string{runDir}
	for _, rel := range run.RelatedRuns {
		dir := filepath.Join(runDir, filepath.FromSlash(rel))
		if _, err := os.Stat(filepath.Join(dir, "run.json")); err == nil {
			dirs = append(dirs, dir)
		}
	}
	return WriteDirs(runDir, dirs...)
}

// WriteDirs reports on the runs in runDirs together (their points merged,
// grouped by experiment) into outDir, which it creates if needed.
func WriteDirs(outDir string, runDirs ...string) (mdPath, htmlPath string, err error) {
	a, err := Load(runDirs...)
	if err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	d, err := build(a)
	if err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(outDir, "plots"), 0o755); err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	for _, s := range d.Sections {
		for _, p := range s.Plots {
			for ext, data := range map[string][]byte{".svg": p.SVG, ".png": p.PNG} {
				if err := writeFile(filepath.Join(outDir, "plots", p.Name+ext), data); err != nil {
					return "", "", fmt.Errorf("report: %w", err)
				}
			}
		}
	}
	mdPath, htmlPath = filepath.Join(outDir, "report.md"), filepath.Join(outDir, "report.html")
	html, err := d.html()
	if err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	if err := writeFile(mdPath, d.markdown()); err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	if err := writeFile(htmlPath, html); err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	return mdPath, htmlPath, nil
}

// writeFile replaces path with data atomically, so a reader never sees half
// a report.
func writeFile(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// document is a report before it is rendered as Markdown or HTML.
type document struct {
	Title string
	Runs  []runInfo
	// Seed is the seed paper's table when the runs hold its experiments.
	Seed *SeedTable
	// SeedMissing says which seed experiment the runs lack, "" for none.
	SeedMissing string
	Sections    []*section
}

// runInfo is one run directory and its index.
type runInfo struct {
	Dir string
	Run *Run
	// Measured and Total count the run's ok points and all its points.
	Measured, Total int
}

// Warning is the line that flags an unfinished run at the report's top, or "".
func (r runInfo) Warning() string {
	switch {
	case r.Run.Interrupted:
		return fmt.Sprintf("Interrupted run: %s (%s) stopped early; %d of %d points measured.", r.Dir, r.Run.Experiment, r.Measured, r.Total)
	case r.Run.FinishedAt.IsZero():
		return fmt.Sprintf("Unfinished run: %s (%s) has no finished_at (still running, or killed); %d of %d points measured.", r.Dir, r.Run.Experiment, r.Measured, r.Total)
	}
	return ""
}

// section is one experiment's part of the report.
type section struct {
	Experiment string
	Exp        Experiment
	ParamKeys  []string
	Groups     []*Group
	// RatioMetric is the metric the paper's ratios are of.
	RatioMetric Metric
	Ratios      []RatioRow
	// Targets are the experiment's targets, measured.
	Targets []TargetRow
	Plots   []Plot
	// Problems are the failed and skipped points.
	Problems []*Point
	Warnings []string
	// Syscalls are the experiment's system call counts.
	Syscalls []*results.Syscalls
}

// build turns an archive into a document, plots rendered.
func build(a *Archive) (*document, error) {
	d := &document{}
	var names []string
	for i, run := range a.Runs {
		info := runInfo{Dir: a.Dirs[i], Run: run, Total: len(run.Points)}
		for _, p := range run.Points {
			if p.Status == StatusOK {
				info.Measured++
			}
		}
		d.Runs = append(d.Runs, info)
		if !slices.Contains(names, run.Experiment) {
			names = append(names, run.Experiment)
		}
	}
	d.Title = "flashbench report: " + strings.Join(names, ", ")
	groups := Groups(a.Points)
	for _, name := range names {
		s, err := newSection(name, a, groups)
		if err != nil {
			return nil, err
		}
		d.Sections = append(d.Sections, s)
	}
	tolerance, archs := 0.0, []string(nil)
	for _, s := range d.Sections {
		if s.Experiment == SeedExperiment {
			tolerance, archs = s.Exp.Paper.Tolerance, s.Exp.Archs
		}
	}
	d.Seed = seedTable(groups, archs, tolerance)
	if d.Seed != nil {
		d.SeedMissing = seedMissing(groups)
	}
	return d, nil
}

// newSection gathers one experiment's groups, problems, ratios and plots.
func newSection(name string, a *Archive, all []*Group) (*section, error) {
	s := &section{Experiment: name, RatioMetric: Metrics[0]}
	for i, run := range a.Runs {
		if run.Experiment != name {
			continue
		}
		exp, err := ParseExperiment(run.ExperimentFile)
		if err != nil {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s: %v (figure and paper ratios left out)", a.Dirs[i], err))
		} else if s.Exp.Figure == "" && s.Exp.Paper.Ratios == nil && s.Exp.Targets == nil {
			s.Exp = exp
		}
	}
	var warning string
	if s.RatioMetric, warning = ratioMetric(s.Exp.Paper); warning != "" {
		s.Warnings = append(s.Warnings, warning)
	}
	for _, g := range all {
		if g.Experiment == name {
			s.Groups = append(s.Groups, g)
		}
	}
	sortByArchs(s.Groups, s.Exp.Archs)
	for _, sc := range a.Syscalls {
		if sc.Experiment == name {
			s.Syscalls = append(s.Syscalls, sc)
		}
	}
	s.ParamKeys = paramKeys(s.Groups)
	var noisy noisyTrials
	for _, p := range a.Points {
		if p.Experiment != name {
			continue
		}
		if p.Status != StatusOK {
			s.Problems = append(s.Problems, p)
		} else {
			s.Warnings = append(s.Warnings, pointWarnings(p)...)
			noisy.add(p)
		}
	}
	if w := noisy.warning(); w != "" {
		s.Warnings = append(s.Warnings, w)
	}
	var warnings []string
	s.Ratios, warnings = ratioRows(s.Exp.Paper, s.RatioMetric, s.Groups)
	s.Warnings = append(s.Warnings, warnings...)
	s.Targets = targetRows(s.Exp.Targets, s.Groups)
	var err error
	if s.Plots, err = s.plots(); err != nil {
		return nil, err
	}
	return s, nil
}

// pointWarnings lists what makes an ok point's numbers doubtful.
func pointWarnings(p *Point) []string {
	var w []string
	r := p.Result
	if c := r.Client; c != nil && c.Saturated {
		w = append(w, fmt.Sprintf("%s: the client was saturated (cpu %.0f%%); its throughput is a lower bound on the server's", p.ID, 100*c.CPUUtilization))
	}
	if r.Interrupted {
		w = append(w, fmt.Sprintf("%s: interrupted after %.1f s of %.1f s", p.ID, r.DurationS, r.Config.DurationS))
	}
	if r.ErrorsTotal > 0 {
		w = append(w, fmt.Sprintf("%s: %d errors in %d requests", p.ID, r.ErrorsTotal, r.RequestsTotal))
	}
	return w
}

// noisyTrials gathers the measured trials of an experiment that ran on a
// noisy machine, for one warning: on a shared machine they are often most
// of a run, and a line each would bury the other warnings.
type noisyTrials struct {
	ids      []string
	measured int
	worst    *results.HostLoad
	cpus     int
}

// add counts p, and keeps it when its machine was noisy.
func (n *noisyTrials) add(p *Point) {
	n.measured++
	r := p.Result
	if h := r.HostLoad; h != nil && h.Noisy(r.Provenance.CPUs) != "" {
		n.ids = append(n.ids, p.ID)
		n.worst, n.cpus = results.WorstHostLoad(n.worst, h), max(n.cpus, r.Provenance.CPUs)
	}
}

// warning is the one line on the noisy trials, "" for none.
func (n *noisyTrials) warning() string {
	if len(n.ids) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d measured trials ran on a noisy machine (at worst %s): %s",
		len(n.ids), n.measured, n.worst.Noisy(n.cpus), strings.Join(n.ids, ", "))
}

// paramKeys returns every parameter name the groups use, sorted.
func paramKeys(groups []*Group) []string {
	var keys []string
	for _, g := range groups {
		for k := range g.Params {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// sweepParams are the parameters a sweep plot puts on its x axis, preferred
// in this order.
var sweepParams = []string{"file_size_bytes", "clients", "dataset_bytes", "connections"}

// xParam picks the swept parameter for a line plot: a numeric parameter
// with three values or more; "" when there is none (bar charts then).
func xParam(groups []*Group, keys []string) string {
	candidates := slices.Clone(sweepParams)
	for _, k := range keys {
		if !slices.Contains(candidates, k) {
			candidates = append(candidates, k)
		}
	}
	for _, k := range candidates {
		values := map[float64]bool{}
		numeric := true
		for _, g := range groups {
			f, ok := Number(g.Params[k])
			numeric = numeric && ok
			values[f] = true
		}
		if numeric && len(values) >= 3 {
			return k
		}
	}
	return ""
}

// varying returns the keys whose value differs between groups.
func varying(groups []*Group, keys []string) []string {
	var out []string
	for _, k := range keys {
		for _, g := range groups {
			if FormatParam(g.Params[k]) != FormatParam(groups[0].Params[k]) {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// FormatValue formats a metric value as tables show it: three significant
// digits at least, no exponent, thousands not separated.
func FormatValue(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100 || a == 0:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// plotName makes a file name stem from an experiment name.
func plotName(s string) string {
	if s = strings.Trim(unsafeName.ReplaceAllString(s, "_"), "._"); s == "" {
		return "experiment"
	}
	return s
}

// sortByArchs puts each setting's groups in the order of archs, the
// experiment's list; a setting keeps its place, and an architecture the
// list lacks (a run with --archs) goes after those it has.
func sortByArchs(groups []*Group, archs []string) {
	if len(archs) == 0 {
		return
	}
	setting := map[string]int{}
	for _, g := range groups {
		if _, ok := setting[g.Key]; !ok {
			setting[g.Key] = len(setting)
		}
	}
	slices.SortStableFunc(groups, func(a, b *Group) int {
		return cmp.Or(cmp.Compare(setting[a.Key], setting[b.Key]), cmp.Compare(ArchRank(archs, a.Arch), ArchRank(archs, b.Arch)))
	})
}

// BaseSuffix marks a contender run from the base build a run compares
// with (harness run --base): "sped@base" is the base build's sped.
const BaseSuffix = "@base"

// ArchRank orders arch among an experiment's archs: by their order, each
// base contender right after its own architecture, the others last.
func ArchRank(archs []string, arch string) int {
	a, isBase := strings.CutSuffix(arch, BaseSuffix)
	i := slices.Index(archs, a)
	if i < 0 {
		i = len(archs)
	}
	if isBase {
		return 2*i + 1
	}
	return 2 * i
}
