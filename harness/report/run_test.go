package report_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"flashbench/harness/report"
)

const validRun = `{"schema_version": 1, "experiment": "hotos97", "started_at": "2025-03-14T15:09:26Z",
 "finished_at": "2025-03-14T15:19:26Z", "interrupted": false, "topology": "local",
 "experiment_file": "figure = \"HotOS 1997, Table 1\"\n", "future_key": true,
 "points": [
  {"id": "amped-file_size_bytes=500-trial=1", "arch": "amped", "params": {"file_size_bytes": 500},
   "trial": 1, "status": "ok", "result": "amped-file_size_bytes=500-trial=1.json"},
  {"id": "sped-file_size_bytes=500-trial=1", "arch": "sped", "params": {"file_size_bytes": 500},
   "trial": 1, "status": "failed", "reason": "server exited"}]}`

func TestDecodeRun(t *testing.T) {
	for _, tt := range []struct {
		name, doc, wantErr string
	}{
		{"valid", validRun, ""},
		{"version", strings.Replace(validRun, `"schema_version": 1`, `"schema_version": 2`, 1), "unsupported schema_version 2"},
		{"no experiment", strings.Replace(validRun, `"experiment": "hotos97"`, `"experiment": ""`, 1), "experiment: empty"},
		{"bad status", strings.Replace(validRun, `"status": "failed"`, `"status": "done"`, 1), `points[1]: status: "done"`},
		{"ok without result", strings.Replace(validRun, `, "result": "amped-file_size_bytes=500-trial=1.json"`, "", 1), "points[0]: result: empty"},
		{"result outside the run", strings.Replace(validRun, `"result": "amped`, `"result": "../amped`, 1), "not a file name inside"},
		{"no arch", strings.Replace(validRun, `"arch": "sped"`, `"arch": ""`, 1), "points[1]: arch: empty"},
		{"not json", `{"schema_version": 1,`, "run.json: decode"},
		{"trailing data", validRun + ` {}`, "data after the document"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run, err := report.DecodeRun(strings.NewReader(tt.doc))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("DecodeRun: got error %v, want none", err)
				}
				if run.Experiment != "hotos97" || len(run.Points) != 2 || run.Points[0].Params["file_size_bytes"] != 500.0 {
					t.Errorf("DecodeRun: got %+v, want hotos97 with 2 points", run)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("DecodeRun(%s): got error %v, want one containing %q", tt.name, err, tt.wantErr)
			}
		})
	}
}

// FuzzReadRun decodes arbitrary run.json documents: the decoder must not
// panic, and what it accepts must survive an encode/decode round trip.
func FuzzReadRun(f *testing.F) {
	f.Add([]byte(validRun))
	f.Add([]byte(`{"schema_version": 1, "experiment": "x", "points": []}`))
	f.Add([]byte(`{"schema_version": 1, "experiment": "x", "interrupted": true, "points": [{"id": "a", "arch": "a", "status": "skipped"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := report.DecodeRun(bytes.NewReader(data))
		if err != nil {
			return
		}
		b, err := json.Marshal(run)
		if err != nil {
			t.Fatalf("encode accepted run: %v", err)
		}
		again, err := report.DecodeRun(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("decode re-encoded run: %v\n%s", err, b)
		}
		if !again.StartedAt.Equal(run.StartedAt) || !again.FinishedAt.Equal(run.FinishedAt) {
			t.Fatalf("round trip changed times: %v %v -> %v %v", run.StartedAt, run.FinishedAt, again.StartedAt, again.FinishedAt)
		}
		again.StartedAt, again.FinishedAt = run.StartedAt, run.FinishedAt
		if !reflect.DeepEqual(normalize(t, run), normalize(t, again)) {
			t.Fatalf("round trip changed the run:\n%+v\n%+v", run, again)
		}
	})
}

// normalize re-encodes run so numbers in params compare by value.
func normalize(t *testing.T, run *report.Run) string {
	t.Helper()
	b, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
