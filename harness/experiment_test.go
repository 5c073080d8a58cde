package harness_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	for _, name := range []string{"hotos97", "single-file", "specweb99", "dataset-sweep", "optimizations", "connections",
		"iolite-static", "iolite-cgi", "hotos97-cgi", "servers-close", "servers-keepalive", "servers-disk"} {
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
			checkRatioNames(t, e)
			checkTargetNotes(t, e)
		})
	}
}

// checkTargetNotes checks that every target of a built-in experiment says
// in a short note what it asks.
func checkTargetNotes(t *testing.T, e *harness.Experiment) {
	t.Helper()
	for i, tg := range e.Targets {
		if n := len(tg.Note); n == 0 || n > 100 {
			t.Errorf("target %d (%s): got a note of %d characters, want 1..100", i+1, tg.Ratio, n)
		}
	}
}

// checkRatioNames checks that both sides of every paper ratio are an
// architecture of the experiment or a value of its swept parameter, so
// that the report measures it.
func checkRatioNames(t *testing.T, e *harness.Experiment) {
	t.Helper()
	if e.Paper == nil {
		return
	}
	known := map[string]bool{}
	for _, a := range e.Archs {
		known[a] = true
	}
	if e.Sweep != nil {
		for _, v := range e.Sweep.Values {
			known[fmt.Sprint(v)] = true
		}
	}
	for name := range e.Paper.Ratios {
		num, den, _ := strings.Cut(name, "/")
		if !known[num] || !known[den] {
			t.Errorf("paper ratio %q: %s or %s is neither an architecture nor a swept value", name, num, den)
		}
	}
}

// estimatedSeconds estimates an experiment's run time: per server start,
// verify and stop (~1 s), warm-up, and per trial the measurement plus the
// client's start (~0.3 s). With [memory] or [disk] every trial starts its
// server afresh and warms it up, after mounting a fresh device (~1 s).
// A [syscalls] pass per cell adds a start, a warm-up, the wait for its
// processes to settle and strace's attach and detach (~1.5 s), and its
// requests under strace: ~0.5 ms each, and ~20 ms for each connection
// of forking, a Go process started per connection (measured: 3000 on a
// loaded two-core machine took 0.4 s for sped, 1.7 s for nethttp, 61 s
// for forking).
func estimatedSeconds(t *testing.T, name string) float64 {
	t.Helper()
	e, err := harness.LookupExperiment(name)
	if err != nil {
		t.Fatal(err)
	}
	l := e.Load
	start, trial := 1.0+l.Warmup.Seconds(), l.Duration.Seconds()+0.3
	per := start + float64(l.Trials)*trial
	if e.Memory != nil || e.Disk != nil {
		if e.Disk != nil {
			start++
		}
		per = float64(l.Trials) * (start + trial)
	}
	total := per * float64(len(e.Cells(e.Archs)))
	if s := e.Syscalls; s != nil && s.Requests > 0 {
		n := float64(s.Requests)
		conns := float64(l.Connections) // unlimited keep-alive
		if l.RequestsPerConn > 0 {
			conns = n / float64(l.RequestsPerConn)
		}
		total += (1.5 + l.Warmup.Seconds() + n*0.0005) * float64(len(e.Cells(e.Archs)))
		if slices.Contains(e.Archs, "forking") {
			total += conns * 0.020 * float64(len(e.Cells([]string{"forking"})))
		}
	}
	return total
}

func TestExperimentsFitTheirTime(t *testing.T) {
	tests := []struct {
		names []string
		max   float64
	}{
		// `make bench` runs both: about five minutes (the estimate errs
		// long: 287 s estimated, without uring, took 204 s at 2707e74).
		{[]string{"hotos97", "hotos97-cgi"}, 320},
		{[]string{"iolite-static"}, 225},
		{[]string{"iolite-crossover"}, 180},
		{[]string{"iolite-cgi"}, 300}, // with uring and uring-shm beside amped and flashlite
		// `make bench-servers` runs the three: about ten minutes (the
		// estimate errs long: 590 s estimated took 447 s on 2026-12-07).
		{[]string{"servers-close", "servers-keepalive", "servers-disk"}, 660},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, "+"), func(t *testing.T) {
			total := 0.0
			for _, n := range tt.names {
				total += estimatedSeconds(t, n)
			}
			t.Logf("estimated %.0f s", total)
			if total > tt.max {
				t.Errorf("got an estimated %.0f s, want at most %.0f s", total, tt.max)
			}
		})
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
		{"server_cpu too small", base + "server_cpu = 0.05\n", "load: server_cpu: 0.05, want 0.1..1"},
		{"server_cpu above a core", base + "server_cpu = 2\n", "load: server_cpu: 2, want 0.1..1"},
		{"server_cpu negative", base + "server_cpu = -0.3\n", "load: server_cpu: -0.3"},
		{"rate and think", base + "rate_per_conn_rps = 1.0\nthink_time = \"1s\"\n", "choose one"},
		{"sweep param", base + "[sweep]\nparam = \"speed\"\nvalues = [1]\n", `param "speed"`},
		{"sweep no values", base + "[sweep]\nparam = \"clients\"\nvalues = []\n", "values: none"},
		{"sweep negative", base + "[sweep]\nparam = \"clients\"\nvalues = [-1]\n", "value -1"},
		{"sweep string", base + "[sweep]\nparam = \"clients\"\nvalues = [\"a\"]\n", "value a"},
		{"caches", base + "[sweep]\nparam = \"caches\"\nvalues = [\"path+disk\"]\n", "caches: value path+disk"},
		{"dataset on specweb", strings.Replace(strings.Replace(base, "count = 1\nsize_bytes = 10", "connections = 5", 1), `"fixed"`, `"specweb99"`, 1) +
			"[sweep]\nparam = \"dataset_bytes\"\nvalues = [1]\n", "needs a fixed file set"},
		{"memory", base + "[memory]\nlimit_bytes = 1\n", "memory.limit_bytes"},
		{"syscalls negative", base + "[syscalls]\nrequests = -1\n", "syscalls.requests: -1, want 0..1000000 (0: no count)"},
		{"syscalls too many", base + "[syscalls]\nrequests = 1000001\n", "syscalls.requests: 1000001"},
		{"syscalls unknown key", base + "[syscalls]\nrequest = 3000\n", "unknown key syscalls.request"},
		{"cgi no size", cgiBase(0, ""), "size_bytes: 0, want 1.."},
		{"cgi too large", cgiBase(1<<40, ""), "size_bytes: 1099511627776"},
		{"cgi count", strings.Replace(cgiBase(10, ""), `kind = "cgi"`, "kind = \"cgi\"\ncount = 2", 1), "count and connections: not used by cgi"},
		{"cgi program", cgiBase(10, `program = "adrot"`), `program "adrot"`},
		{"program on fixed", strings.Replace(base, "count = 1", "count = 1\nprogram = \"dyn\"", 1), "program: not used by fixed"},
		{"cgi memory", cgiBase(10, "") + "[memory]\nlimit_bytes = 134217728\n", "memory and disk: not used by cgi"},
		{"cgi dataset", cgiBase(10, "") + "[sweep]\nparam = \"dataset_bytes\"\nvalues = [1]\n", "needs a fixed file set, not cgi"},
		{"cgi sweep too large", cgiBase(10, "") + "[sweep]\nparam = \"file_size_bytes\"\nvalues = [1099511627776]\n", "want at most"},
		{"size sweep on specweb", strings.Replace(strings.Replace(base, "count = 1\nsize_bytes = 10", "connections = 5", 1), `"fixed"`, `"specweb99"`, 1) +
			"[sweep]\nparam = \"file_size_bytes\"\nvalues = [1]\n", "needs a fixed, single or cgi file set"},
		{"ratio", base + "[paper]\nratios = { \"amped\" = 1.0 }\n", `paper.ratios: "amped"`},
		{"tolerance", base + "[paper]\ntolerance = 1.5\n", "paper.tolerance: 1.5, want 0..1"},
		{"listen in server args", base + "[server]\nargs = [\"--listen\", \"10.0.0.1:80\"]\n", `server: args: "--listen" is set by the harness`},
		{"short listen", base + "[server]\nargs = [\"-l=8.8.8.8:80\"]\n", `server: args: "-l=8.8.8.8:80" is set by the harness`},
		{"root in server args", base + "[server]\nargs = [\"--root=/etc\"]\n", `server: args: "--root=/etc"`},
		{"arch in server args", base + "[server]\nargs = [\"-a\", \"null\"]\n", `server: args: "-a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := harness.ParseExperiment("t.toml", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	for _, ok := range []string{base, base + "[server]\nargs = [\"--helpers\", \"4\", \"--no-mmap-cache\"]\n"} {
		if _, err := harness.ParseExperiment("t.toml", []byte(ok)); err != nil {
			t.Errorf("got %v, want nil for\n%s", err, ok)
		}
	}
	cgi := cgiBase(500, "") + "[sweep]\nparam = \"file_size_bytes\"\nvalues = [500, 51200]\n"
	e, err := harness.ParseExperiment("t.toml", []byte(cgi))
	if err != nil {
		t.Fatalf("cgi with a size sweep: got %v, want nil", err)
	}
	if e.FileSet.Kind != harness.KindCGI || e.FileSet.Program != harness.CGIProgram || len(e.Cells(e.Archs)) != 2 {
		t.Errorf("cgi: got file set %+v and %d cells, want kind cgi, program dyn by default, 2 cells", e.FileSet, len(e.Cells(e.Archs)))
	}
}

// cgiBase is a valid cgi experiment of size bytes, with extra lines in its
// file set table.
func cgiBase(size int64, extra string) string {
	return fmt.Sprintf(`name = "x"
description = "d"
archs = ["amped"]
[fileset]
kind = "cgi"
size_bytes = %d
%s
[load]
connections = 1
duration = "1s"
`, size, extra)
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

func TestParseTargets(t *testing.T) {
	const base = `name = "x"
description = "d"
archs = ["sped", "amped", "nginx"]
[fileset]
kind = "single"
size_bytes = 10
[load]
connections = 1
duration = "1s"
[sweep]
param = "file_size_bytes"
values = [500, 51200]
`
	target := func(lines string) string { return base + "[[target]]\n" + lines + "\n" }
	tests := []struct{ name, text, want string }{
		{"no ratio", target("min = 1.0"), `target 1 (""): ratio: want "num/den"`},
		{"one side", target(`ratio = "sped"` + "\nmin = 1.0"), `target 1 ("sped"): ratio: want "num/den"`},
		{"same side", target(`ratio = "sped/sped"` + "\nmin = 1.0"), "two different architectures"},
		{"numerator not run", target(`ratio = "flashlite/sped"` + "\nmin = 1.0"), `target 1 ("flashlite/sped"): ratio: flashlite is not in archs`},
		{"denominator not run", target(`ratio = "sped/apache2-worker"` + "\nmin = 1.0"), "ratio: apache2-worker is not in archs"},
		{"no bound", target(`ratio = "sped/nginx"`), "min and max: want exactly one"},
		{"both bounds", target(`ratio = "sped/nginx"` + "\nmin = 1.0\nmax = 2.0"), "min and max: want exactly one"},
		{"zero min", target(`ratio = "sped/nginx"` + "\nmin = 0"), "min: 0, want a positive number"},
		{"negative max", target(`ratio = "sped/nginx"` + "\nmax = -3.0"), "max: -3, want a positive number"},
		{"infinite max", target(`ratio = "sped/nginx"` + "\nmax = inf"), "max: +Inf, want a positive number"},
		{"metric", target(`ratio = "sped/nginx"` + "\nmin = 1.0\nmetric = \"speed\""), `metric "speed": want one of throughput_rps,`},
		{"setting", target(`ratio = "sped/nginx"` + "\nmin = 1.0\nsettings = [\"5000\"]"), `settings: "5000" is not a value of the sweep`},
		{"setting twice", target(`ratio = "sped/nginx"` + "\nmin = 1.0\nsettings = [\"500\", \"500\"]"), `settings: "500" listed twice`},
		{"setting without a sweep", strings.Replace(target(`ratio = "sped/nginx"`+"\nmin = 1.0\nsettings = [\"500\"]"), "[sweep]\nparam = \"file_size_bytes\"\nvalues = [500, 51200]\n", "", 1),
			`settings: "500" is not a value of the sweep`},
		{"unknown key", target(`ratio = "sped/nginx"` + "\nmin = 1.0\nminimum = 2.0"), "unknown key target.minimum"},
		{"second target", target(`ratio = "sped/nginx"`+"\nmin = 1.0") + "[[target]]\nratio = \"amped/nginx\"\n", `target 2 ("amped/nginx"): min and max`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := harness.ParseExperiment("t.toml", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	ok := target(`ratio = "sped/nginx"`+"\nmin = 1\nsettings = [\"51200\", \"file_size_bytes=500\"]\nnote = \"n\"") +
		"[[target]]\nratio = \"amped/sped\"\nmax = 3.0\nmetric = \"server_cpu_per_request_us\"\n"
	e, err := harness.ParseExperiment("t.toml", []byte(ok))
	if err != nil {
		t.Fatalf("got %v, want nil for\n%s", err, ok)
	}
	if len(e.Targets) != 2 || e.Targets[0].Min == nil || *e.Targets[0].Min != 1 || e.Targets[0].Max != nil ||
		e.Targets[1].Max == nil || *e.Targets[1].Max != 3 || e.Targets[1].Metric != "server_cpu_per_request_us" {
		t.Errorf("got targets %+v, want sped/nginx min 1 and amped/sped max 3 of server CPU", e.Targets)
	}
}
