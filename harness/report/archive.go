// Package report turns archived harness runs into a Markdown report and a
// self-contained HTML page: one table per experiment with the median and
// spread of every metric across trials, the paper's numbers as ratios beside
// the measured ones, the experiment's targets with their verdicts, and SVG
// and PNG plots titled after the paper figure each reproduces.
//
// It reads the archive layout the harness writes:
//
//	results/<experiment>/<timestamp>/run.json        the run's index (Run)
//	results/<experiment>/<timestamp>/<point id>.json one results document per point
//	results/<experiment>/<timestamp>/syscalls/*.json the system call counts, if any
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"flashbench/results"
)

// RunSchemaVersion is the only run.json schema version this package reads.
const RunSchemaVersion = 1

// Point statuses in run.json.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Run is run.json: the index of one harness run, rewritten after every
// point so an interrupted run keeps it.
type Run struct {
	SchemaVersion int       `json:"schema_version"`
	Experiment    string    `json:"experiment"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Interrupted   bool      `json:"interrupted"`
	Topology      string    `json:"topology"`
	// ExperimentFile is the experiment's TOML text as the run used it.
	ExperimentFile string       `json:"experiment_file"`
	Points         []PointEntry `json:"points"`
	// Provenance is the run's machine and build, as every result
	// document of the run carries it (host_load aside). Optional: runs
	// archived before it was added lack it.
	Provenance *results.Provenance `json:"provenance,omitempty"`
	// RelatedRuns are runs reported together with this one, as paths
	// relative to its directory: `make bench` runs hotos97 and hotos97-cgi,
	// and the hotos97 run's report holds both (the seed paper's table).
	RelatedRuns []string `json:"related_runs,omitempty"`
}

// PointEntry is one measured (or failed, or skipped) point of a run.
type PointEntry struct {
	ID     string         `json:"id"`
	Arch   string         `json:"arch"`
	Params map[string]any `json:"params"`
	Trial  int            `json:"trial"`
	Status string         `json:"status"`
	Reason string         `json:"reason,omitempty"`
	// Result is the point's result document, relative to the run directory.
	Result string `json:"result,omitempty"`
}

// DecodeRun decodes and checks a run.json document. Unknown keys are
// ignored so a newer runner's index still reads; a missing experiment, an
// unsupported schema version, a point without id, arch or a known status,
// or an ok point without a result file name is an error.
func DecodeRun(r io.Reader) (*Run, error) {
	var run Run
	dec := json.NewDecoder(r)
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("run.json: decode: %w", err)
	}
	if dec.More() {
		return nil, errors.New("run.json: decode: data after the document")
	}
	if run.SchemaVersion != RunSchemaVersion {
		return nil, fmt.Errorf("run.json: unsupported schema_version %d (this build reads %d)", run.SchemaVersion, RunSchemaVersion)
	}
	if run.Experiment == "" {
		return nil, errors.New("run.json: experiment: empty")
	}
	for i, p := range run.Points {
		if err := p.check(); err != nil {
			return nil, fmt.Errorf("run.json: points[%d]: %w", i, err)
		}
	}
	return &run, nil
}

// check reports the first way p cannot be used.
func (p *PointEntry) check() error {
	switch {
	case p.ID == "":
		return errors.New("id: empty")
	case p.Arch == "":
		return errors.New("arch: empty")
	case p.Status != StatusOK && p.Status != StatusFailed && p.Status != StatusSkipped:
		return fmt.Errorf("status: %q (want ok, failed or skipped)", p.Status)
	case p.Status == StatusOK && p.Result == "":
		return errors.New("result: empty for an ok point")
	case p.Result != "" && (filepath.IsAbs(p.Result) || strings.Contains(p.Result, "..")):
		return fmt.Errorf("result: %q is not a file name inside the run directory", p.Result)
	}
	return nil
}

// ReadRun reads dir/run.json.
func ReadRun(dir string) (*Run, error) {
	f, err := os.Open(filepath.Join(dir, "run.json"))
	if err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	defer f.Close()
	run, err := DecodeRun(f)
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", dir, err)
	}
	return run, nil
}

// Point is a run.json entry with its result document (nil unless the
// point's status is ok).
type Point struct {
	PointEntry
	Experiment string
	Result     *results.Result
}

// Archive is what one or more run directories hold.
type Archive struct {
	Dirs   []string
	Runs   []*Run
	Points []*Point
	// Syscalls are the runs' system call counts.
	Syscalls []*results.Syscalls
}

// Load reads every run directory's run.json, the result document of each
// ok point and the system call counts. A missing directory, run.json or
// an unreadable document is an error naming the file.
func Load(dirs ...string) (*Archive, error) {
	if len(dirs) == 0 {
		return nil, errors.New("load: no run directory")
	}
	a := &Archive{Dirs: dirs}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("load: %s: not a directory", dir)
		}
		run, err := ReadRun(dir)
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		a.Runs = append(a.Runs, run)
		for _, e := range run.Points {
			p := &Point{PointEntry: e, Experiment: run.Experiment}
			if e.Status == StatusOK {
				if p.Result, err = results.Read(filepath.Join(dir, e.Result)); err != nil {
					return nil, fmt.Errorf("load: point %s: %w", e.ID, err)
				}
			}
			a.Points = append(a.Points, p)
		}
		sc, err := LoadSyscalls(dir)
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		a.Syscalls = append(a.Syscalls, sc...)
	}
	return a, nil
}
