package results_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/results/schematest"
)

// Real documents the code wrote: a result with every optional key, and
// from the archive a run's index, a soak report and a webserver's stats.
const (
	archivedRun   = "hotos97/20261126T041000Z/run.json"
	archivedSoak  = "soak/20261126T062152Z/soak.json"
	archivedStats = "soak/20261126T062152Z/servers/amped.stats.json"
)

// TestSchemasRejectBroken breaks real documents one key at a time: each
// must fail its schema at the key broken, and pass unbroken.
func TestSchemasRejectBroken(t *testing.T) {
	tests := []struct {
		name, schema, file string
		mutate             func(d doc)
		at                 string // "at '/location'" that the error names; "" for valid
	}{
		{"result", schematest.Result, goldenV1Optional, func(doc) {}, ""},
		{"result v1", schematest.Result, goldenV1, func(doc) {}, ""},
		{"result without client", schematest.Result, goldenV1, func(d doc) { delete(d, "client") }, ""},
		{"result without server cpu", schematest.Result, goldenV1, func(d doc) { delete(d.obj("server"), "cpu_user_s") }, ""},
		{"result with dirty false", schematest.Result, goldenV1Optional, func(d doc) { d.obj("provenance")["dirty"] = false }, "at '/provenance/dirty'"},
		{"result binary without revision", schematest.Result, goldenV1Optional,
			func(d doc) { delete(d.obj("provenance", "binaries", "loadgen"), "vcs_revision") }, "at '/provenance/binaries/loadgen'"},
		{"result steal above 1", schematest.Result, goldenV1Optional, func(d doc) { d.obj("host_load")["cpu_steal_fraction"] = 2 }, "at '/host_load/cpu_steal_fraction'"},
		{"result tool not a string", schematest.Result, goldenV1Optional, func(d doc) { d.obj("provenance", "tools")["nginx"] = 1 }, "at '/provenance/tools/nginx'"},
		{"result server stats null", schematest.Result, goldenV1, func(d doc) { d.obj("server")["stats"] = nil }, "at '/server/stats'"},
		{"run", schematest.Run, archivedRun, func(doc) {}, ""},
		{"run with provenance", schematest.Run, archivedRun, func(d doc) { d["provenance"] = goldenProvenance(t) }, ""},
		{"run with bad provenance", schematest.Run, archivedRun, func(d doc) {
			p := goldenProvenance(t)
			delete(p, "kernel")
			d["provenance"] = p
		}, "at '/provenance'"},
		{"run ok point without result", schematest.Run, archivedRun, func(d doc) { delete(d.point(0), "result") }, "at '/points/0'"},
		{"run unknown status", schematest.Run, archivedRun, func(d doc) { d.point(1)["status"] = "passed" }, "at '/points/1/status'"},
		{"run result outside", schematest.Run, archivedRun, func(d doc) { d.point(0)["result"] = "../x.json" }, "at '/points/0/result'"},
		{"run unknown key", schematest.Run, archivedRun, func(d doc) { d["git_commit"] = "x" }, "at ''"},
		{"run no experiment", schematest.Run, archivedRun, func(d doc) { d["experiment"] = "" }, "at '/experiment'"},
		{"soak", schematest.Soak, archivedSoak, func(doc) {}, ""},
		{"soak with provenance", schematest.Soak, archivedSoak, func(d doc) { d["provenance"] = goldenProvenance(t) }, ""},
		{"soak without passed", schematest.Soak, archivedSoak, func(d doc) { delete(d, "passed") }, "at ''"},
		{"soak negative requests", schematest.Soak, archivedSoak, func(d doc) { d.arch(0)["requests_total"] = -1 }, "at '/archs/0/requests_total'"},
		{"soak unknown error class", schematest.Soak, archivedSoak, func(d doc) { d.arch(2)["errors"].(map[string]any)["dns"] = 1 }, "at '/archs/2/errors'"},
		{"soak exit_s not a number", schematest.Soak, archivedSoak,
			func(d doc) { d.arch(0)["shutdown"].(map[string]any)["exit_s"] = "never" }, "at '/archs/0/shutdown'"},
		{"stats", schematest.Stats, archivedStats, func(doc) {}, ""},
		{"stats with a source", schematest.Stats, archivedStats, func(d doc) { d["prefork"] = map[string]any{"restarts": 1} }, ""},
		{"stats source not an object", schematest.Stats, archivedStats, func(d doc) { d["prefork"] = 3 }, "at '/prefork'"},
		{"stats source name", schematest.Stats, archivedStats, func(d doc) { d["Prefork"] = map[string]any{} }, "at ''"},
		{"stats no requests", schematest.Stats, archivedStats, func(d doc) { delete(d, "requests") }, "at ''"},
		{"stats unknown status class", schematest.Stats, archivedStats, func(d doc) { d.obj("responses")["1xx"] = 0 }, "at '/responses'"},
		{"stats negative error", schematest.Stats, archivedStats, func(d doc) { d.obj("errors")["reset"] = -1 }, "at '/errors/reset'"},
		{"stats bad time", schematest.Stats, archivedStats, func(d doc) { d["time"] = "yesterday" }, "at '/time'"},
		{"syscalls", schematest.Syscalls, goldenSyscalls, func(doc) {}, ""},
		{"syscalls failed", schematest.Syscalls, goldenSyscalls, func(d doc) { d["error"] = "strace not found"; d["calls"] = map[string]any{} }, ""},
		{"syscalls empty error", schematest.Syscalls, goldenSyscalls, func(d doc) { d["error"] = "" }, "at '/error'"},
		{"syscalls negative calls", schematest.Syscalls, goldenSyscalls, func(d doc) { d.obj("calls", "read")["calls"] = -1 }, "at '/calls/read/calls'"},
		{"syscalls count without errors", schematest.Syscalls, goldenSyscalls, func(d doc) { delete(d.obj("calls", "read"), "errors") }, "at '/calls/read'"},
		{"syscalls no total", schematest.Syscalls, goldenSyscalls, func(d doc) { delete(d, "total_calls") }, "at ''"},
		{"syscalls unknown key", schematest.Syscalls, goldenSyscalls, func(d doc) { d["calls_per_s"] = 1 }, "at ''"},
		{"syscalls bad provenance", schematest.Syscalls, goldenSyscalls, func(d doc) { delete(d.obj("provenance"), "kernel") }, "at '/provenance'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := readDoc(t, tt.file)
			tt.mutate(d)
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			err = schematest.Validate(tt.schema, b)
			switch {
			case tt.at == "" && err != nil:
				t.Errorf("%s: got %v, want it valid", tt.file, err)
			case tt.at != "" && err == nil:
				t.Errorf("%s: got it valid, want an error %s", tt.file, tt.at)
			case tt.at != "" && !strings.Contains(err.Error(), tt.at):
				t.Errorf("%s: got %v, want an error %s", tt.file, err, tt.at)
			}
		})
	}
}

func (d doc) point(i int) map[string]any { return d["points"].([]any)[i].(map[string]any) }
func (d doc) arch(i int) map[string]any  { return d["archs"].([]any)[i].(map[string]any) }

// goldenProvenance is the provenance of the golden document with every
// optional key, as generic JSON.
func goldenProvenance(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Clean(goldenV1Optional))
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d.obj("provenance")
}
