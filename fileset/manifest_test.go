package fileset_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/fileset"
)

const validManifest = `{"schema_version":1,"kind":"fixed","seed":3,"size_bytes":5,"count":2,"total_bytes":10,"files":[
{"path":"fixed/f000000","size_bytes":5,"class":0,"sha256":"` + zeroSum + `"},
{"path":"fixed/f000001","size_bytes":5,"class":0,"sha256":"` + zeroSum + `"}]}`

const zeroSum = "0000000000000000000000000000000000000000000000000000000000000000"

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{"valid", validManifest, ""},
		{"not json", `{"schema_version":`, "malformed json"},
		{"schema", strings.Replace(validManifest, `"schema_version":1`, `"schema_version":2`, 1), "schema_version 2"},
		{"kind", strings.Replace(validManifest, `"fixed","seed"`, `"nfs","seed"`, 1), "unknown kind"},
		{"total", strings.Replace(validManifest, `"total_bytes":10`, `"total_bytes":11`, 1), "total_bytes 11"},
		{"escape", strings.Replace(validManifest, `fixed/f000001`, `../f000001`, 1), "invalid path"},
		{"absolute", strings.Replace(validManifest, `fixed/f000001`, `/etc/passwd`, 1), "invalid path"},
		{"hidden", strings.Replace(validManifest, `fixed/f000001`, `fixed/.f`, 1), "hidden element"},
		{"manifest itself", strings.Replace(validManifest, `fixed/f000001`, `manifest.json`, 1), "invalid path"},
		{"duplicate", strings.Replace(validManifest, `fixed/f000001`, `fixed/f000000`, 1), "duplicate path"},
		{"checksum", strings.Replace(validManifest, zeroSum+`"}]`, `xyz"}]`, 1), "malformed sha256"},
		{"no files", `{"schema_version":1,"kind":"single","total_bytes":0,"files":[]}`, "no files"},
		{"specweb grid", `{"schema_version":1,"kind":"specweb99","directories":1,"total_bytes":5,"files":[{"path":"dir00000/class0_0","size_bytes":5,"class":0,"sha256":"` + zeroSum + `"}]}`, "1 files, want 36"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := fileset.ParseManifest([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil || len(m.Files) != 2 {
					t.Fatalf("got %v, %v; want a manifest of 2 files", m, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, %v; want error containing %q", m, err, tt.wantErr)
			}
		})
	}
}

func TestReadManifestMissing(t *testing.T) {
	_, err := fileset.ReadManifest(filepath.Join(t.TempDir(), "none.json"))
	if !os.IsNotExist(err) && (err == nil || !strings.Contains(err.Error(), "no such file")) {
		t.Fatalf("missing manifest: got %v, want a not-exist error", err)
	}
}

func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte(`{"schema_version":1,"kind":"specweb99","directories":1,"total_bytes":0,"files":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := fileset.ParseManifest(data) // ReadManifest minus the file read
		if err != nil {
			if m != nil {
				t.Fatalf("got a manifest and error %v", err)
			}
			return
		}
		// A manifest that validates must round-trip, and must be samplable.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fileset.ParseManifest(again); err != nil {
			t.Fatalf("round trip of a valid manifest: %v", err)
		}
		s := fileset.NewSampler(m, 1)
		for range 10 {
			if s.Next() == nil {
				t.Fatal("sampler returned no file")
			}
		}
	})
}
