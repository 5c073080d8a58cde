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

// archivedKind tells an archived document's schema by its place.
func archivedKind(path string) string {
	switch base := filepath.Base(path); {
	case base == "run.json":
		return schematest.Run
	case base == "soak.json":
		return schematest.Soak
	case strings.HasSuffix(base, ".stats.json"):
		return schematest.Stats
	}
	return schematest.Result
}

func checkArchived(t *testing.T, path, kind string) {
	t.Helper()
	if err := schematest.ValidateFile(kind, path); err != nil {
		t.Error(err)
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
