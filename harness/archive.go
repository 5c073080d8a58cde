package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"flashbench/harness/report"
	"flashbench/internal/atomicfile"
)

// The run index (run.json) is defined, decoded and checked in package
// report, which reads it; the runner writes the same type.
type (
	// Index is run.json, the index of one run: rewritten atomically after
	// every point, so an interrupted run keeps what it measured.
	Index = report.Run
	// PointEntry is one point of a run: measured, failed or skipped.
	PointEntry = report.PointEntry
)

// IndexSchemaVersion and the point statuses of run.json.
const (
	IndexSchemaVersion = report.RunSchemaVersion
	StatusOK           = report.StatusOK
	StatusFailed       = report.StatusFailed
	StatusSkipped      = report.StatusSkipped
)

// ReadIndex reads and checks dir/run.json.
func ReadIndex(dir string) (*Index, error) { return report.ReadRun(dir) }

// writeIndex stores ix as dir/run.json atomically.
func writeIndex(dir string, ix *Index) error {
	b, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return fmt.Errorf("run index: %w", err)
	}
	path := filepath.Join(dir, "run.json")
	if err := atomicfile.WriteFile(path, append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readJSONObject reads a JSON object from a file.
func readJSONObject(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// RelateRuns records in dir/run.json the runs reported together with it,
// as paths relative to dir, so that its report, written again later, holds
// them too.
func RelateRuns(dir string, related ...string) error {
	ix, err := ReadIndex(dir)
	if err != nil {
		return fmt.Errorf("relate runs: %w", err)
	}
	ix.RelatedRuns = nil
	for _, r := range related {
		rel, err := filepath.Rel(dir, r)
		if err != nil {
			return fmt.Errorf("relate runs: %w", err)
		}
		ix.RelatedRuns = append(ix.RelatedRuns, filepath.ToSlash(rel))
	}
	return writeIndex(dir, ix)
}
