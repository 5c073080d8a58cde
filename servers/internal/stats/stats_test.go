package stats_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/stats"
)

// TestWriteFile checks the JSON document: counters by class, cache
// counters of an attached core, extra fields, and no temporary file left.
func TestWriteFile(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("hello"), 0o644)
	core, err := httpcore.New(httpcore.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	f, herr := core.Resolve([]byte("/a.txt"))
	if herr != nil {
		t.Fatal(herr)
	}
	f.Release()

	c := stats.New()
	c.AttachCore(core)
	for _, s := range []int{200, 200, 304, 404, 500, 503} {
		c.Response(s)
	}
	c.BytesSent.Add(1234)
	c.EFaultErrors.Add(1)
	dir := t.TempDir()
	path := filepath.Join(dir, "stats.json")
	if err := c.WriteFile(path, map[string]any{"arch": "test"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	responses := got["responses"].(map[string]any)
	errs := got["errors"].(map[string]any)
	caches := got["caches"].(map[string]any)
	tests := []struct {
		name string
		got  any
		want float64
	}{
		{"schema_version", got["schema_version"], stats.SchemaVersion},
		{"requests", got["requests"], 6},
		{"bytes_sent", got["bytes_sent"], 1234},
		{"2xx", responses["2xx"], 2},
		{"3xx", responses["3xx"], 1},
		{"4xx", responses["4xx"], 1},
		{"5xx", responses["5xx"], 2},
		{"efault", errs["efault"], 1},
		{"path_misses", caches["path_misses"], 1},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if rss, _ := got["peak_rss_bytes"].(float64); rss <= 0 {
		t.Errorf("peak_rss_bytes: got %v, want > 0", got["peak_rss_bytes"])
	}
	if extra := got["extra"].(map[string]any); extra["arch"] != "test" {
		t.Errorf("extra.arch: got %v, want test", extra["arch"])
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries after WriteFile, want only stats.json", len(entries))
	}
}

// TestWriteFileError checks that a missing directory is an error.
func TestWriteFileError(t *testing.T) {
	err := stats.New().WriteFile(filepath.Join(t.TempDir(), "no", "such", "stats.json"), nil)
	if err == nil {
		t.Fatal("got nil error writing into a missing directory, want one")
	}
}

// TestAddSource checks that a source's value lands under its own top-level
// key, read afresh at every write, beside the fixed keys.
func TestAddSource(t *testing.T) {
	type helperCounters struct {
		HelperSpawns uint64 `json:"helper_spawns"`
	}
	var spawns atomic.Uint64
	c := stats.New()
	c.AddSource("amped", func() any { return helperCounters{HelperSpawns: spawns.Load()} })
	c.AddSource("workers", func() any { return map[string]int{"restarts": 2} })
	c.Response(200)
	path := filepath.Join(t.TempDir(), "stats.json")
	for _, want := range []float64{0, 3} {
		spawns.Store(uint64(want))
		if err := c.WriteFile(path, nil); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, data)
		}
		amped, _ := got["amped"].(map[string]any)
		if amped["helper_spawns"] != want {
			t.Errorf("amped.helper_spawns: got %v, want %v\n%s", amped["helper_spawns"], want, data)
		}
		if w, _ := got["workers"].(map[string]any); w["restarts"] != 2.0 {
			t.Errorf("workers: got %v, want restarts 2", got["workers"])
		}
		if got["requests"] != 1.0 {
			t.Errorf("requests: got %v, want 1", got["requests"])
		}
	}
}

// TestAddSourceTaken checks that a name in use panics.
func TestAddSourceTaken(t *testing.T) {
	for _, name := range []string{"requests", "caches", "amped", ""} {
		t.Run(name, func(t *testing.T) {
			c := stats.New()
			c.AddSource("amped", func() any { return 1 })
			defer func() {
				if recover() == nil {
					t.Errorf("AddSource(%q): got no panic, want one", name)
				}
			}()
			c.AddSource(name, func() any { return 2 })
		})
	}
}
