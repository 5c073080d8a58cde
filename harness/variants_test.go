package harness_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"flashbench/harness"
)

// TestExecuteVariant runs sped-nocache, the HotOS paper's thttpd: the
// webserver must run as sped with its three caches off (no hit in its
// stats), under the variant's name in the results.
func TestExecuteVariant(t *testing.T) {
	out, log := executeExperiment(t, mustParse(t, `name = "variant"
description = "sped without its caches"
archs = ["sped-nocache"]
[fileset]
kind = "fixed"
count = 4
size_bytes = 500
[load]
connections = 2
requests_per_conn = 1
duration = "300ms"
allow_saturated_client = true
`), harness.Options{})
	r := out.Results["sped-nocache-trial=1"]
	if r == nil {
		t.Fatalf("got no result for sped-nocache:\n%s", log.String())
	}
	extra, _ := r.Server.Stats["extra"].(map[string]any)
	caches, _ := r.Server.Stats["caches"].(map[string]any)
	requests, _ := r.Server.Stats["requests"].(float64)
	if r.Server.Arch != "sped-nocache" || extra["arch"] != "sped" || requests == 0 {
		t.Errorf("got arch %q, webserver arch %v, %v requests; want sped-nocache, sped, > 0", r.Server.Arch, extra["arch"], requests)
	}
	for _, k := range []string{"path_hits", "header_hits", "mmap_hits"} {
		if hits, ok := caches[k].(float64); !ok || hits != 0 {
			t.Errorf("caches.%s: got %v, want 0 (every cache off)", k, caches[k])
		}
	}
}

// TestExecuteBase runs a webserver architecture beside its base contender
// (a run comparing two builds): sped@base must run from the base build's
// directory, as sped, in the same rounds as sped, and the summary must
// give their ratio.
func TestExecuteBase(t *testing.T) {
	base := t.TempDir()
	ran := filepath.Join(base, "ran")
	// The base build is the same webserver behind a script that says it
	// ran, and with which architecture.
	script := fmt.Sprintf("#!/bin/sh\necho \"$@\" >> %s\nexec %s \"$@\"\n", ran, filepath.Join(binDir, "webserver"))
	if err := os.WriteFile(filepath.Join(base, "webserver"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	e := mustParse(t, `name = "base"
description = "sped and null against those of the base build"
archs = ["sped", "null"]
[fileset]
kind = "fixed"
count = 4
size_bytes = 500
[load]
connections = 2
requests_per_conn = 1
duration = "300ms"
trials = 2
allow_saturated_client = true
`)
	out, log := executeExperiment(t, e, harness.Options{BaseBinDir: base})
	// null@base answers its canned response, not the files, as null does.
	for _, id := range []string{"sped-trial=1", "sped-trial=2", "sped@base-trial=1", "sped@base-trial=2", "null@base-trial=1"} {
		if r := out.Results[id]; r == nil || r.RequestsTotal == 0 {
			t.Errorf("point %s: got %v, want a result with requests\n%s", id, r, log.String())
		}
	}
	b, err := os.ReadFile(ran)
	if err != nil || !strings.Contains(string(b), "--arch sped ") {
		t.Errorf("base build's webserver: got %q (%v), want it started with --arch sped", b, err)
	}
	if strings.Count(string(b), "--arch sped ") != 1 {
		t.Errorf("base build's webserver ran %d times as sped, want once (one cell, two rounds):\n%s", strings.Count(string(b), "--arch sped "), b)
	}
	var sum bytes.Buffer
	if err := harness.WriteSummary(&sum, e, out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^sped/sped@base +all +– +(\d|not measured)`).MatchString(sum.String()) {
		t.Errorf("summary: want a row sped/sped@base, got:\n%s", sum.String())
	}
	if bins := out.Results["sped@base-trial=1"].Provenance.BaseBinaries; bins["webserver"].Path != filepath.Join(base, "webserver") {
		t.Errorf("provenance.base_binaries: got %v, want the base build's webserver", bins)
	}
}
