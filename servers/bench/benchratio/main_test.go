package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// writeResults writes one result document per measurement into a new
// directory, plus a file that is not a measurement.
func writeResults(t *testing.T, ms []Measurement) string {
	t.Helper()
	dir := t.TempDir()
	for _, m := range ms {
		name := fmt.Sprintf("%s.%s.%d.json", m.Case, m.Server, m.Round)
		doc := fmt.Sprintf(`{"schema_version": 1, "throughput_rps": %g, "errors_total": %d}`, m.RPS, m.Errors)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if m.Busy > 0 {
			side := fmt.Sprintf("%s.%s.%d.server.json", m.Case, m.Server, m.Round)
			if err := os.WriteFile(filepath.Join(dir, side), []byte(fmt.Sprintf(`{"server_busy": %g}`, m.Busy)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "stats.json"), []byte(`{}`), 0o644)
	return dir
}

// TestGolden runs the command on three rounds of two cases and compares
// its output with testdata/table.stdout.
func TestGolden(t *testing.T) {
	var ms []Measurement
	for round, scale := range []float64{1, 0.9, 1.2} {
		for srv, rps := range map[string]float64{"nginx": 50000, "sped": 62000, "amped": 58000, "null": 90000} {
			ms = append(ms, Measurement{Case: "500b-keepalive", Server: srv, Round: round + 1, RPS: rps * scale})
		}
		ms = append(ms, Measurement{Case: "disk", Server: "sped", Round: round + 1, RPS: 100 * scale, Errors: 2})
		ms = append(ms, Measurement{Case: "disk", Server: "amped", Round: round + 1, RPS: 180 * scale})
		// One request per connection: both servers wait for the client.
		ms = append(ms, Measurement{Case: "500b-close", Server: "sped", Round: round + 1, RPS: 20000 * scale, Busy: 0.6})
		ms = append(ms, Measurement{Case: "500b-close", Server: "null", Round: round + 1, RPS: 19000 * scale, Busy: 0.5 * scale})
		// Busy servers: the ratio is decided.
		ms = append(ms, Measurement{Case: "500b-close", Server: "nginx", Round: round + 1, RPS: 10000 * scale, Busy: 1.01})
	}
	dir := writeResults(t, ms)
	var stdout, stderr bytes.Buffer
	err := run([]string{"benchratio", "--servers", "nginx,sped,amped,null", "--cases", "disk,500b-keepalive,500b-close",
		"--target", "500b-keepalive:sped/nginx>=1.2", "--target", "500b-keepalive:null/sped>=1",
		"--target", "500b-close:null/sped>=1", "--target", "500b-close:sped/nginx>=1", "--target", "500b-close:nginx/sped>=1",
		"--target", "disk:amped/sped>=2", "--target", "disk:sped/amped", "--target", "50kb-keepalive:sped/nginx>=1", dir}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "table.stdout")
	if *update {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := stdout.String(); got != string(want) {
		t.Errorf("output:\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    Target
		wantErr bool
	}{
		{"500b-keepalive:sped/nginx>=1.2", Target{"500b-keepalive", "sped", "nginx", 1.2}, false},
		{"disk:amped/sped>=2", Target{"disk", "amped", "sped", 2}, false},
		{"disk:amped/sped", Target{"disk", "amped", "sped", math.NaN()}, false},
		{"disk:amped/sped>=NaN", Target{}, true},
		{"amped/sped>=2", Target{}, true},
		{"disk:amped>=2", Target{}, true},
		{"disk:amped/sped>=x", Target{}, true},
		{"disk:/sped>=1", Target{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			same := got.Case == tt.want.Case && got.Num == tt.want.Num && got.Den == tt.want.Den &&
				(got.Min == tt.want.Min || math.IsNaN(got.Min) && math.IsNaN(tt.want.Min))
			if (err != nil) != tt.wantErr || !same {
				t.Errorf("ParseTarget(%q): got %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestBadInput checks that bad input is one error line naming the command.
func TestBadInput(t *testing.T) {
	empty := t.TempDir()
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "a.nginx.1.json"), []byte(`{"requests": 3}`), 0o644)
	badSide := t.TempDir()
	os.WriteFile(filepath.Join(badSide, "a.nginx.1.json"), []byte(`{"throughput_rps": 3}`), 0o644)
	os.WriteFile(filepath.Join(badSide, "a.nginx.1.server.json"), []byte(`{"busy": 1}`), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no directory", nil, "want one directory"},
		{"no results", []string{empty}, "no CASE.SERVER.ROUND.json"},
		{"no throughput", []string{broken}, "no throughput_rps"},
		{"bad side file", []string{badSide}, "want {\"server_busy\": X}"},
		{"bad target", []string{"--target", "x", empty}, "want CASE:A/B>=X"},
		{"unknown flag", []string{"--bogus", empty}, "bad usage: flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(append([]string{"benchratio"}, tt.args...), &stdout, &stderr)
			if stdout.Len() > 0 || stderr.Len() > 0 {
				t.Errorf("run %q: printed %q and %q, want only the error", tt.args, stdout.String(), stderr.String())
			}
			if err == nil || !strings.HasPrefix(err.Error(), "benchratio: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run %q: got %v, want an error starting \"benchratio: \" containing %q", tt.args, err, tt.want)
			}
		})
	}
}
