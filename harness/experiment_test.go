package harness_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness"
)

func TestBuiltinExperiments(t *testing.T) {
	all, err := harness.Experiments()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("experiments/*.toml")
	if len(all) != len(files) {
		t.Fatalf("got %d experiments, want %d (one per file)", len(all), len(files))
	}
	for _, name := range []string{"hotos97", "single-file", "specweb99", "dataset-sweep", "optimizations", "connections"} {
		t.Run(name, func(t *testing.T) {
			e, err := harness.LookupExperiment(name)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join("experiments", name+".toml"))
			if err != nil {
				t.Fatal(err)
			}
			if e.Source != string(b) {
				t.Errorf("Source differs from experiments/%s.toml", name)
			}
			if e.Figure == "" {
				t.Errorf("figure: empty")
			}
			if len(e.Cells(e.Archs)) == 0 {
				t.Errorf("got no cells")
			}
		})
	}
}

func TestHotos97FitsFiveMinutes(t *testing.T) {
	e, err := harness.LookupExperiment("hotos97")
	if err != nil {
		t.Fatal(err)
	}
	// Per server: start, verify and stop (~1 s), warm-up, and per trial
	// the measurement plus the client's start (~0.3 s).
	l := e.Load
	per := 1.0 + l.Warmup.Seconds() + float64(l.Trials)*(l.Duration.Seconds()+0.3)
	if total := per * float64(len(e.Cells(e.Archs))); total > 300 {
		t.Errorf("got an estimated %.0f s, want at most 300 s", total)
	}
}

func TestParseExperimentErrors(t *testing.T) {
	const base = `name = "x"
description = "d"
archs = ["sped"]
[fileset]
kind = "fixed"
count = 1
size_bytes = 10
[load]
connections = 1
duration = "1s"
`
	tests := []struct{ name, text, want string }{
		{"syntax", "name = ", "experiment t.toml"},
		{"unknown key", base + "bogus = 1\n", "unknown key load.bogus"},
		{"bad name", strings.Replace(base, `"x"`, `"X Y"`, 1), `name "X Y"`},
		{"no description", strings.Replace(base, `description = "d"`, "", 1), "description: missing"},
		{"no archs", strings.Replace(base, `archs = ["sped"]`, "archs = []", 1), "archs: none"},
		{"twice", strings.Replace(base, `["sped"]`, `["sped", "sped"]`, 1), `"sped" listed twice`},
		{"kind", strings.Replace(base, `"fixed"`, `"huge"`, 1), `kind "huge"`},
		{"fixed no count", strings.Replace(base, "count = 1", "", 1), "count: 0"},
		{"duration", strings.Replace(base, `"1s"`, `"soon"`, 1), "soon"},
		{"zero duration", strings.Replace(base, `duration = "1s"`, "", 1), "duration: 0s"},
		{"connections", strings.Replace(base, "connections = 1", "connections = 0", 1), "load: connections: 0"},
		{"rate and think", base + "rate_per_conn_rps = 1.0\nthink_time = \"1s\"\n", "choose one"},
		{"sweep param", base + "[sweep]\nparam = \"speed\"\nvalues = [1]\n", `param "speed"`},
		{"sweep no values", base + "[sweep]\nparam = \"clients\"\nvalues = []\n", "values: none"},
		{"sweep negative", base + "[sweep]\nparam = \"clients\"\nvalues = [-1]\n", "value -1"},
		{"sweep string", base + "[sweep]\nparam = \"clients\"\nvalues = [\"a\"]\n", "value a"},
		{"caches", base + "[sweep]\nparam = \"caches\"\nvalues = [\"path+disk\"]\n", "caches: value path+disk"},
		{"dataset on specweb", strings.Replace(strings.Replace(base, "count = 1\nsize_bytes = 10", "connections = 5", 1), `"fixed"`, `"specweb99"`, 1) +
			"[sweep]\nparam = \"dataset_bytes\"\nvalues = [1]\n", "needs a fixed file set"},
		{"memory", base + "[memory]\nlimit_bytes = 1\n", "memory.limit_bytes"},
		{"ratio", base + "[paper]\nratios = { \"amped\" = 1.0 }\n", `paper.ratios: "amped"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := harness.ParseExperiment("t.toml", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := harness.ParseExperiment("t.toml", []byte(base)); err != nil {
		t.Errorf("base: got %v, want nil", err)
	}
}

func TestCellsAndPointIDs(t *testing.T) {
	e, err := harness.LookupExperiment("optimizations")
	if err != nil {
		t.Fatal(err)
	}
	cells := e.Cells([]string{"amped"})
	if len(cells) != 8 {
		t.Fatalf("got %d cells, want 8", len(cells))
	}
	if got, want := cells[0].PointID(2), "amped-caches=path+header+mmap-trial=2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := (harness.Cell{Arch: "sped"}).PointID(1), "sped-trial=1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzParseExperiment(f *testing.F) {
	files, _ := filepath.Glob("experiments/*.toml")
	more, _ := filepath.Glob("testdata/*.toml")
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := harness.ParseExperiment("fuzz.toml", data)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("parsed experiment does not validate: %v", err)
		}
		for _, c := range e.Cells(e.Archs) {
			if c.PointID(1) == "" {
				t.Fatal("empty point id")
			}
		}
	})
}
