package results_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/results"
	"flashbench/results/schematest"
)

// TestArchive reads every document archived under results/: each run's
// index, each result document (its server.stats too), each soak report,
// interval and server stats file must validate against its schema, and
// each result document must read. Documents are never edited: a schema
// change that rejects one of them is not additive.
func TestArchive(t *testing.T) {
	runs, err := filepath.Glob(filepath.Join("*", "2*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) == 0 {
		t.Fatal("no archived run under results/")
	}
	counts := map[string]int{}
	for _, run := range runs {
		err := filepath.WalkDir(run, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			kind := archivedKind(path)
			counts[kind]++
			if kind == benchSummary {
				checkSummary(t, path)
				return nil
			}
			checkArchived(t, path, kind)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("validated %v", counts)
	for _, kind := range []string{schematest.Run, schematest.Result, schematest.Soak, schematest.Stats} {
		if counts[kind] == 0 {
			t.Errorf("no archived document of %s", kind)
		}
	}
}

// benchSummary is the kind of bench-loadgen's summary.json, which has no
// JSON Schema of its own: checkSummary reads it.
const benchSummary = "bench-loadgen summary"

// archivedKind tells an archived document's schema by its place.
func archivedKind(path string) string {
	switch base := filepath.Base(path); {
	case base == "summary.json" && filepath.Base(filepath.Dir(filepath.Dir(path))) == "bench-loadgen":
		return benchSummary
	case base == "run.json":
		return schematest.Run
	case base == "soak.json":
		return schematest.Soak
	case strings.HasSuffix(base, ".stats.json"):
		return schematest.Stats
	case filepath.Base(filepath.Dir(path)) == "syscalls":
		return schematest.Syscalls
	}
	return schematest.Result
}

func checkArchived(t *testing.T, path, kind string) {
	t.Helper()
	if err := schematest.ValidateFile(kind, path); err != nil {
		t.Error(err)
	}
	if kind == schematest.Syscalls {
		if _, err := results.ReadSyscalls(path); err != nil {
			t.Error(err)
		}
		return
	}
	if kind != schematest.Result {
		return
	}
	r, err := results.Read(path)
	if err != nil {
		t.Error(err)
		return
	}
	if len(r.Server.Stats) > 0 {
		stats, _ := json.Marshal(r.Server.Stats)
		if err := schematest.Validate(schematest.Stats, stats); err != nil {
			t.Errorf("%s: server.stats: %v", path, err)
		}
	}
}

// checkSummary checks a bench-loadgen summary: a JSON object of schema
// version 1 whose every run names a file archived beside it.
func checkSummary(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return
	}
	type run struct {
		File string `json:"file"`
	}
	var s struct {
		SchemaVersion int `json:"schema_version"`
		Cases         []struct {
			Wrk     run `json:"wrk"`
			Loadgen run `json:"loadgen"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &s); err != nil || s.SchemaVersion != 1 || len(s.Cases) == 0 {
		t.Errorf("%s: got schema_version %d, %d cases, error %v; want 1, some cases, nil", path, s.SchemaVersion, len(s.Cases), err)
		return
	}
	for _, c := range s.Cases {
		for _, f := range []string{c.Wrk.File, c.Loadgen.File} {
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), f)); f == "" || err != nil {
				t.Errorf("%s: run file %q: %v", path, f, err)
			}
		}
	}
}
