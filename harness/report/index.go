package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"flashbench/results"
)

// IndexName is the stem of the run index a results root holds:
// index.html to browse, index.md for readers on a git forge.
const IndexName = "index"

// WriteIndex rewrites root/index.md and root/index.html, the index of
// every archived run under root (root/<experiment>/<timestamp>/run.json),
// newest first, each with its headline ratio and a link to its report. A
// run whose run.json does not decode is listed with its error; only a
// root that cannot be read or written is an error.
func WriteIndex(root string) (mdPath, htmlPath string, err error) {
	runs, err := indexRuns(root)
	if err != nil {
		return "", "", fmt.Errorf("index: %w", err)
	}
	html, err := indexHTML(runs)
	if err != nil {
		return "", "", fmt.Errorf("index: %w", err)
	}
	mdPath, htmlPath = filepath.Join(root, IndexName+".md"), filepath.Join(root, IndexName+".html")
	if err := writeFile(mdPath, indexMarkdown(runs)); err != nil {
		return "", "", fmt.Errorf("index: %w", err)
	}
	if err := writeFile(htmlPath, html); err != nil {
		return "", "", fmt.Errorf("index: %w", err)
	}
	return mdPath, htmlPath, nil
}

// indexRun is one archived run as the index lists it.
type indexRun struct {
	// Dir is the run directory relative to the root, slash-separated.
	Dir string
	// Experiment is run.json's, or the directory's when it does not decode.
	Experiment string
	// Started is run.json's started_at, or the directory's timestamp.
	Started time.Time
	// Run is nil when run.json does not decode, and Err says why.
	Run *Run
	Err string
	// Measured and Total count the ok points and all points.
	Measured, Total int
	// Provenance is run.json's, or for runs archived before it had one the
	// first ok point's result document's; nil when neither has one.
	Provenance *results.Provenance
	// Headline is the run's headline ratio (nil: none), HeadlineErr why it
	// could not be measured.
	Headline    *headline
	HeadlineErr string
	// HasReport and HasReportMD tell whether report.html and report.md
	// are there.
	HasReport, HasReportMD bool
}

// runDirLayout is the name of a run directory: its start time in UTC.
const runDirLayout = "20060102T150405Z"

// indexRuns reads every run directory under root, newest first.
func indexRuns(root string) ([]*indexRun, error) {
	if _, err := os.Stat(root); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(root, "*", "*", "run.json"))
	if err != nil {
		return nil, fmt.Errorf("find runs under %s: %w", root, err)
	}
	runs := make([]*indexRun, 0, len(files))
	for _, f := range files {
		runs = append(runs, readIndexRun(root, filepath.Dir(f)))
	}
	slices.SortFunc(runs, func(a, b *indexRun) int {
		return cmp.Or(b.Started.Compare(a.Started), cmp.Compare(a.Dir, b.Dir))
	})
	return runs, nil
}

// readIndexRun reads what the index shows of the run in dir. Nothing in
// it is fatal: what cannot be read is said in the run's row.
func readIndexRun(root, dir string) *indexRun {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		rel = dir
	}
	ir := &indexRun{Dir: filepath.ToSlash(rel), Experiment: filepath.Base(filepath.Dir(dir))}
	ir.Started, _ = time.Parse(runDirLayout, filepath.Base(dir))
	ir.HasReport = exists(filepath.Join(dir, "report.html"))
	ir.HasReportMD = exists(filepath.Join(dir, "report.md"))
	run, err := decodeRunFile(filepath.Join(dir, "run.json"))
	if err != nil {
		ir.Err = oneLine(err.Error())
		return ir
	}
	ir.Run, ir.Experiment, ir.Started = run, run.Experiment, run.StartedAt
	ir.Total = len(run.Points)
	for _, p := range run.Points {
		if p.Status == StatusOK {
			ir.Measured++
		}
	}
	ir.Provenance = run.Provenance
	if ir.Provenance == nil {
		ir.Provenance = firstProvenance(dir, run)
	}
	if ir.Headline, err = runHeadline(dir, run); err != nil {
		ir.HeadlineErr = oneLine(err.Error())
	}
	return ir
}

// decodeRunFile decodes the run.json at path.
func decodeRunFile(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("run.json: %w", err)
	}
	defer f.Close()
	return DecodeRun(f)
}

// firstProvenance returns the provenance of the run's first ok point's
// result document, nil when there is none or it does not read.
func firstProvenance(dir string, run *Run) *results.Provenance {
	for _, p := range run.Points {
		if p.Status != StatusOK {
			continue
		}
		r, err := readResultLight(filepath.Join(dir, p.Result))
		if err != nil {
			return nil
		}
		return &r.Provenance
	}
	return nil
}

// readResultLight decodes a result document without checking it or
// decoding its histograms: the index needs a few numbers of each point,
// and the full check of results.Read takes seconds on an archive of
// thousands of points (the histograms' decompression, mostly). The
// report, which reads every number, checks every document.
func readResultLight(path string) (*results.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r results.Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: decode: %w", filepath.Base(path), err)
	}
	return &r, nil
}

// Commit is the run's commit as the index shows it: the hash shortened to
// 7 digits, "unknown" or "mixed" as they are, "–" when there is none.
func (ir *indexRun) Commit() string {
	if ir.Provenance == nil || ir.Provenance.GitCommit == "" {
		return "–"
	}
	c := strings.TrimSuffix(ir.Provenance.GitCommit, "-dirty")
	if len(c) > 7 && strings.Trim(c, "0123456789abcdef") == "" {
		c = c[:7]
	}
	return c
}

// Tree is "dirty" when the run's programs were not all built from one
// commit without uncommitted changes (results.Provenance's Dirty, its
// git_modified, or an early document's commit marked -dirty), "clean"
// otherwise, "–" without provenance.
func (ir *indexRun) Tree() string {
	p := ir.Provenance
	switch {
	case p == nil || p.GitCommit == "":
		return "–"
	case p.Dirty, p.GitModified != nil && *p.GitModified, strings.HasSuffix(p.GitCommit, "-dirty"),
		p.GitCommit == "unknown", p.GitCommit == "mixed":
		return "dirty"
	}
	return "clean"
}

// Points is the run's points measured of its total: "10 of 12".
func (ir *indexRun) Points() string { return fmt.Sprintf("%d of %d", ir.Measured, ir.Total) }

// Status marks a run that did not finish: "interrupted", "unfinished" (no
// finished_at: still running, or killed); "" for one that did.
func (ir *indexRun) Status() string {
	switch {
	case ir.Run == nil:
		return ""
	case ir.Run.Interrupted:
		return "interrupted"
	case ir.Run.FinishedAt.IsZero():
		return "unfinished"
	}
	return ""
}

// Date is the run's start in UTC, "–" when unknown.
func (ir *indexRun) Date() string {
	if ir.Started.IsZero() {
		return "–"
	}
	return ir.Started.UTC().Format("2006-01-02 15:04Z")
}

// Link is the run's report, relative to the root: report.html when it
// is there (report.md with md set), else the run directory.
func (ir *indexRun) Link(md bool) string {
	switch {
	case md && ir.HasReportMD:
		return ir.Dir + "/report.md"
	case !md && ir.HasReport:
		return ir.Dir + "/report.html"
	}
	return ir.Dir + "/"
}

// exists reports whether path is there.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// oneLine keeps an error message to one short line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:159]) + "…"
	}
	return s
}
