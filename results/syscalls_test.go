package results_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/results"
)

// goldenSyscalls is a system call count the harness wrote: sped, 3000
// requests of servers-close, one per connection.
const goldenSyscalls = "testdata/syscalls_v1.json"

func TestSyscallsRoundTrip(t *testing.T) {
	s, err := results.ReadSyscalls(goldenSyscalls)
	if err != nil {
		t.Fatal(err)
	}
	if s.Arch != "sped" || s.Requests != 3000 || s.Calls["accept4"].Calls < 3000 || s.TotalCalls <= 0 {
		t.Errorf("got arch %q, %d requests, %d accept4, %d calls; want sped, 3000, at least 3000, some", s.Arch, s.Requests,
			s.Calls["accept4"].Calls, s.TotalCalls)
	}
	path := filepath.Join(t.TempDir(), "sped.json")
	if err := results.WriteSyscalls(path, s); err != nil {
		t.Fatal(err)
	}
	back, err := results.ReadSyscalls(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(back)
	if string(a) != string(b) {
		t.Errorf("round trip: got\n%s\nwant\n%s", b, a)
	}
}

// TestSyscallsRejected breaks the golden document one rule at a time:
// ReadSyscalls must refuse it in one line naming the rule, and
// WriteSyscalls must refuse to write it.
func TestSyscallsRejected(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d doc)
		want   string
	}{
		{"version 2", func(d doc) { d["schema_version"] = 2 }, "unsupported schema_version 2"},
		{"unknown key", func(d doc) { d["calls_per_s"] = 1 }, `unknown field "calls_per_s"`},
		{"no arch", func(d doc) { d["arch"] = "" }, "experiment and arch: want both"},
		{"negative requests", func(d doc) { d["requests"] = -1 }, "requests: negative count (-1)"},
		{"errors above calls", func(d doc) { d.obj("calls", "read")["errors"] = 1e6 }, `calls["read"]`},
		{"total off", func(d doc) { d["total_calls"] = 1 }, "total_calls 1, total_errors"},
		{"per connection negative", func(d doc) { d["calls_per_connection"] = -1 }, "calls_per_connection: negative"},
		{"dirty unmarked", func(d doc) { delete(d.obj("provenance"), "dirty") }, "provenance.dirty: false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := readDoc(t, goldenSyscalls)
			tt.mutate(d)
			b, _ := json.Marshal(d)
			path := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := results.ReadSyscalls(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line containing %q", err, tt.want)
			}
			var s results.Syscalls
			if json.Unmarshal(b, &s) == nil {
				if werr := results.WriteSyscalls(filepath.Join(t.TempDir(), "w.json"), &s); werr == nil && tt.name != "unknown key" {
					t.Errorf("WriteSyscalls: got nil, want it refused")
				}
			}
		})
	}
}
