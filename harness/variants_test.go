package harness_test

import (
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
