package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"flashbench/internal/atomicfile"
)

// IndexSchemaVersion is the version of run.json.
const IndexSchemaVersion = 1

// Point statuses in run.json.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Index is run.json, the index of one run: rewritten atomically after
// every point, so an interrupted run keeps what it measured.
type Index struct {
	SchemaVersion int       `json:"schema_version"`
	Experiment    string    `json:"experiment"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Interrupted   bool      `json:"interrupted"`
	Topology      string    `json:"topology"`
	// ExperimentFile is the experiment's TOML text as the run used it.
	ExperimentFile string       `json:"experiment_file"`
	Points         []PointEntry `json:"points"`
}

// PointEntry is one point of a run: measured, failed or skipped.
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

// ReadIndex reads dir/run.json.
func ReadIndex(dir string) (*Index, error) {
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return nil, fmt.Errorf("run index: %w", err)
	}
	var ix Index
	if err := json.Unmarshal(b, &ix); err != nil {
		return nil, fmt.Errorf("run index %s: %w", dir, err)
	}
	if ix.SchemaVersion != IndexSchemaVersion {
		return nil, fmt.Errorf("run index %s: schema_version %d, want %d", dir, ix.SchemaVersion, IndexSchemaVersion)
	}
	return &ix, nil
}

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
