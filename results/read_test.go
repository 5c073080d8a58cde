package results_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/results"
)

// doc is a result document decoded into generic JSON values, to be broken
// one key at a time.
type doc map[string]any

// obj returns the object at the dotted path of keys.
func (d doc) obj(keys ...string) map[string]any {
	m := map[string]any(d)
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

// readDoc reads the JSON document at path as generic values.
func readDoc(t *testing.T, path string) doc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d doc) series(i int) map[string]any { return d["series"].([]any)[i].(map[string]any) }

func sampleDoc(t *testing.T) doc {
	t.Helper()
	b, err := results.Marshal(sampleResult(t))
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestReadRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d doc)
		want   string // substring of the error; "" means accepted
	}{
		{"valid", func(d doc) {}, ""},
		{"no open_loop", func(d doc) { delete(d, "open_loop") }, ""},
		{"null open_loop", func(d doc) { d["open_loop"] = nil }, `key "open_loop" is null`},
		{"no sclient", func(d doc) { delete(d, "sclient") }, ""},
		{"null sclient", func(d doc) { d["sclient"] = nil }, `key "sclient" is null`},
		{"no aborted_connects", func(d doc) { delete(d.obj("sclient"), "aborted_connects") },
			`missing required key "sclient.aborted_connects"`},
		{"unknown sclient key", func(d doc) { d.obj("sclient")["aborted"] = 1 }, `unknown key "sclient.aborted"`},
		{"negative aborted_connects", func(d doc) { d.obj("sclient")["aborted_connects"] = -1 },
			"sclient.aborted_connects: negative count (-1)"},
		{"negative offered conn rate", func(d doc) { d.obj("sclient")["offered_conn_per_s"] = -3 },
			"sclient.offered_conn_per_s: negative (-3)"},
		{"no disk", func(d doc) { delete(d, "disk") }, ""},
		{"no budget", func(d doc) { delete(d, "budget") }, ""},
		{"null budget", func(d doc) { d["budget"] = nil }, `key "budget" is null`},
		{"no budget period", func(d doc) { delete(d.obj("budget"), "period_us") }, `missing required key "budget.period_us"`},
		{"unknown budget key", func(d doc) { d.obj("budget")["quota"] = 1 }, `unknown key "budget.quota"`},
		{"budget above a core", func(d doc) { d.obj("budget")["server_cpu_cores"] = 1.5 }, "budget.server_cpu_cores: 1.5 is above 1"},
		{"budget cgroup version", func(d doc) { d.obj("budget")["cgroup_version"] = 3 }, "budget.cgroup_version: 3, want 0, 1 or 2"},
		{"budgeted, with a reason", func(d doc) { d.obj("budget")["unbudgeted_reason"] = "none" },
			"budget.unbudgeted_reason: set, but server_cpu_cores is 0.3"},
		{"no server cpu", func(d doc) { delete(d.obj("budget"), "server_cpu_s") }, `missing required key "budget.server_cpu_s"`},
		{"negative cpu per request", func(d doc) { d.obj("budget")["server_cpu_per_request_us"] = -1 },
			"budget.server_cpu_per_request_us: negative (-1)"},
		{"no bound", func(d doc) { delete(d, "bound") }, ""},
		{"bound verdict", func(d doc) { d.obj("bound")["verdict"] = "cpu" }, `bound.verdict: "cpu", want server, disk, client, network or undecided`},
		{"bound without reason", func(d doc) { d.obj("bound")["reason"] = "" }, "bound.reason: empty"},
		{"throttled more than ran", func(d doc) { d.obj("budget")["throttled_periods"] = 751 },
			"budget.throttled_periods: 751, more than the 750 periods"},
		{"null disk", func(d doc) { d["disk"] = nil }, `key "disk" is null`},
		{"no disk reads", func(d doc) { delete(d.obj("disk"), "reads") }, `missing required key "disk.reads"`},
		{"unknown disk key", func(d doc) { d.obj("disk")["iops"] = 300 }, `unknown key "disk.iops"`},
		{"negative disk reads", func(d doc) { d.obj("disk")["reads"] = -1 }, "disk.reads: negative count (-1)"},
		{"disk without channels", func(d doc) { d.obj("disk")["channels"] = 0 }, "disk.channels: 0, want at least 1"},
		{"disk without model", func(d doc) { d.obj("disk")["model"] = "" }, "disk.model: empty"},
		{"negative disk mean", func(d doc) { d.obj("disk")["mean_in_flight"] = -0.5 }, "disk.mean_in_flight: negative (-0.5)"},
		{"no aborted_requests", func(d doc) { delete(d, "aborted_requests") }, ""},
		{"null aborted_requests", func(d doc) { d["aborted_requests"] = nil }, `key "aborted_requests" is null`},
		{"negative aborted_requests", func(d doc) { d["aborted_requests"] = -4 }, "aborted_requests: negative count (-4)"},
		{"no dominant_error", func(d doc) { delete(d, "dominant_error") }, ""},
		{"null dominant_error", func(d doc) { d["dominant_error"] = nil }, `key "dominant_error" is null`},
		{"unknown dominant_error", func(d doc) { d["dominant_error"] = "dns" }, `dominant_error: unknown error class "dns"`},
		{"dominant_error without errors", func(d doc) { d["dominant_error"] = "write" }, `dominant_error: "write" counts no error`},
		{"dominant_error not the largest", func(d doc) { d["dominant_error"] = "reset" },
			`dominant_error: "reset" (2) is not the largest class, "timeout" (3) is`},
		{"dominant_error tied", func(d doc) { d.obj("errors")["reset"] = 3; d["errors_total"] = 6 }, ""},
		{"no note", func(d doc) { delete(d, "note") }, ""},
		{"null note", func(d doc) { d["note"] = nil }, `key "note" is null`},
		{"note not a string", func(d doc) { d["note"] = 3 }, "cannot unmarshal number"},
		{"no uncorrected histogram", func(d doc) { delete(d.obj("histograms"), "uncorrected") }, ""},
		{"uncorrected histogram garbage", func(d doc) { d.obj("histograms")["uncorrected"] = "bm90" },
			`histograms["uncorrected"]: does not decode`},
		{"no client", func(d doc) { delete(d, "client") }, ""},
		{"null client", func(d doc) { d["client"] = nil }, `key "client" is null`},
		{"no server cpu or memory", func(d doc) {
			for _, k := range []string{"cpu_user_s", "cpu_system_s", "peak_rss_bytes"} {
				delete(d.obj("server"), k)
			}
		}, ""},
		{"null server cpu", func(d doc) { d.obj("server")["cpu_user_s"] = nil }, `key "server.cpu_user_s" is null`},
		{"negative server cpu", func(d doc) { d.obj("server")["cpu_system_s"] = -1 }, "server.cpu_system_s: negative (-1)"},
		{"no host_load", func(d doc) { delete(d, "host_load") }, ""},
		{"no host_load steal", func(d doc) { delete(d.obj("host_load"), "cpu_steal_fraction") },
			`missing required key "host_load.cpu_steal_fraction"`},
		{"steal above 1", func(d doc) { d.obj("host_load")["cpu_steal_fraction"] = 1.5 }, "host_load.cpu_steal_fraction: 1.5 is above 1"},
		{"load mean above max", func(d doc) { d.obj("host_load")["load_average_1m_mean"] = 4 },
			"host_load.load_average_1m_mean: 4 is above load_average_1m_max 3.5"},
		{"negative load", func(d doc) { d.obj("host_load")["load_average_1m_start"] = -1 }, "host_load.load_average_1m_start: negative (-1)"},
		{"no provenance additions", func(d doc) {
			for _, k := range []string{"git_modified", "dirty", "binaries", "tools"} {
				delete(d.obj("provenance"), k)
			}
		}, ""},
		{"modified build not dirty", func(d doc) { delete(d.obj("provenance"), "dirty") },
			`provenance.dirty: false, but the build is not clean (git_commit "mixed", git_modified true)`},
		{"unknown build not dirty", func(d doc) {
			d.obj("provenance")["git_commit"], d.obj("provenance")["git_modified"] = "unknown", false
			delete(d.obj("provenance"), "dirty")
		}, `provenance.dirty: false, but the build is not clean (git_commit "unknown", git_modified false)`},
		{"clean build", func(d doc) {
			d.obj("provenance")["git_commit"], d.obj("provenance")["git_modified"] = "0123456789abcdef0123456789abcdef01234567", false
			delete(d.obj("provenance"), "dirty")
		}, ""},
		{"binary without revision", func(d doc) { d.obj("provenance", "binaries", "harness")["vcs_revision"] = "" },
			`provenance.binaries["harness"].vcs_revision: empty (want a commit or "unknown")`},
		{"binary without go_version", func(d doc) { delete(d.obj("provenance", "binaries", "loadgen"), "go_version") },
			`missing required key "provenance.binaries.loadgen.go_version"`},
		{"unknown binary key", func(d doc) { d.obj("provenance", "binaries", "loadgen")["sha"] = "x" },
			`unknown key "provenance.binaries.loadgen.sha"`},
		{"tool version not a string", func(d doc) { d.obj("provenance", "tools")["nginx"] = 1 }, "cannot unmarshal number"},
		{"version 2", func(d doc) { d["schema_version"] = 2 }, "unsupported schema_version 2 (this build reads 1)"},
		{"version 0", func(d doc) { d["schema_version"] = 0 }, "unsupported schema_version 0"},
		{"version as string", func(d doc) { d["schema_version"] = "1" }, "schema_version: want a number, got string"},
		{"no version", func(d doc) { delete(d, "schema_version") }, `missing required key "schema_version"`},
		{"no tool", func(d doc) { delete(d, "tool") }, `missing required key "tool"`},
		{"tool in capitals", func(d doc) { d["TOOL"] = d["tool"]; delete(d, "tool") }, `missing required key "tool"`},
		{"no config.extra", func(d doc) { delete(d.obj("config"), "extra") }, `missing required key "config.extra"`},
		{"no client_cpus", func(d doc) { delete(d.obj("provenance", "core_pinning"), "client_cpus") },
			`missing required key "provenance.core_pinning.client_cpus"`},
		{"no error class", func(d doc) { delete(d.obj("errors"), "addr_exhausted") }, `missing required key "errors.addr_exhausted"`},
		{"no p999", func(d doc) { delete(d.obj("latency_us"), "p999") }, `missing required key "latency_us.p999"`},
		{"no series p99", func(d doc) { delete(d.series(1), "p99_us") }, `missing required key "series[1].p99_us"`},
		{"no late_sends", func(d doc) { delete(d.obj("open_loop"), "late_sends") }, `missing required key "open_loop.late_sends"`},
		{"null config", func(d doc) { d["config"] = nil }, `key "config" is null`},
		{"null interrupted_reason", func(d doc) { d["interrupted_reason"] = nil }, `key "interrupted_reason" is null`},
		{"null series", func(d doc) { d["series"] = nil }, `key "series" is null`},
		{"config not object", func(d doc) { d["config"] = "fast" }, "config: want an object, got string"},
		{"unknown key", func(d doc) { d["latency_ms"] = 1 }, `unknown key "latency_ms"`},
		{"unknown nested key", func(d doc) { d.obj("config")["conections"] = 1 }, `unknown key "config.conections"`},
		{"unknown error class", func(d doc) { d.obj("errors")["dns"] = 0 }, `unknown key "errors.dns"`},
		{"wrong type", func(d doc) { d.obj("config")["connections"] = "64" }, "cannot unmarshal string"},
		{"empty tool", func(d doc) { d["tool"] = "" }, "tool: empty"},
		{"bad time", func(d doc) { d["started_at"] = "yesterday" }, `started_at: want an RFC 3339 time in UTC (ending in Z), got "yesterday"`},
		{"bad UTC time", func(d doc) { d["started_at"] = "2025-13-01T00:00:00Z" }, "started_at: want an RFC 3339 time"},
		{"numeric time", func(d doc) { d["started_at"] = 1741964966 }, "started_at: want a string, got number"},
		{"not UTC", func(d doc) { d["started_at"] = "2025-03-14T16:09:26+01:00" }, "started_at: want an RFC 3339 time in UTC (ending in Z), got \"2025-03-14T16:09:26+01:00\""},
		{"zero time", func(d doc) { d["started_at"] = "0001-01-01T00:00:00Z" }, "started_at: zero time"},
		{"negative duration", func(d doc) { d["duration_s"] = -1 }, "duration_s: negative (-1)"},
		{"negative timeout", func(d doc) { d.obj("config")["timeout_s"] = -0.5 }, "config.timeout_s: negative (-0.5)"},
		{"negative requests", func(d doc) { d["requests_total"] = -1 }, "requests_total: negative count (-1)"},
		{"negative error count", func(d doc) { d.obj("errors")["reset"] = -2; d["errors_total"] = 1 },
			"errors.reset: negative count (-2)"},
		{"negative rss", func(d doc) { d.obj("server")["peak_rss_bytes"] = -1 }, "server.peak_rss_bytes: negative count"},
		{"negative series requests", func(d doc) { d.series(0)["requests"] = -5 }, "series[0].requests: negative count"},
		{"errors_total off", func(d doc) { d["errors_total"] = 6 }, "errors_total: got 6, want 5 (the sum of errors)"},
		{"errors overflow", func(d doc) {
			d.obj("errors")["reset"] = int64(1) << 62
			d.obj("errors")["read"] = int64(1) << 62
			d.obj("errors")["write"] = int64(1) << 62
		}, "errors: counts sum past the int64 range"},
		{"p90 below p50", func(d doc) { d.obj("latency_us")["p90"] = 1 }, "latency_us: percentiles not monotone: p90 (1) < p50"},
		{"max below p999", func(d doc) { d.obj("latency_us")["max"] = 1 }, "latency_us: percentiles not monotone: max (1) < p999"},
		{"uncorrected not monotone", func(d doc) { d.obj("open_loop", "uncorrected_latency_us")["p99"] = 0 },
			"open_loop.uncorrected_latency_us: percentiles not monotone: p99 (0) < p90"},
		{"utilization above 1", func(d doc) { d.obj("client")["cpu_utilization"] = 1.5 }, "client.cpu_utilization: 1.5 is above 1"},
		{"series time goes back", func(d doc) { d.series(2)["t_s"] = 2 }, "series[2].t_s: 2 does not follow 2"},
		{"reason without interrupt", func(d doc) { d["interrupted"] = false }, "interrupted_reason: set, but interrupted is false"},
		{"unknown topology", func(d doc) { d.obj("provenance")["topology"] = "cloud" }, `provenance.topology: "cloud" is not local, netns or ssh`},
		{"histogram garbage", func(d doc) { d.obj("histograms")["total"] = "bm90IGEgaGlzdG9ncmFt" }, `histograms["total"]: does not decode`},
		{"histogram not base64", func(d doc) { d.obj("histograms")["ttfb"] = "%%%" }, `histograms["ttfb"]: does not decode`},
		{"histogram empty", func(d doc) { d.obj("histograms")["connect"] = "" }, `histograms["connect"]: does not decode: empty string`},
		{"histogram truncated", func(d doc) {
			h := d.obj("histograms")["total"].(string)
			d.obj("histograms")["total"] = h[:len(h)/2]
		}, `histograms["total"]: does not decode`},
		{"histogram name", func(d doc) { d.obj("histograms")["p99"] = d.obj("histograms")["total"] }, `histograms: invalid name "p99"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sampleDoc(t)
			tt.mutate(d)
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "run.json")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = results.Read(path)
			checkErr(t, "Read", err, "results: read "+path+": ", tt.want)
			_, err = results.Decode(strings.NewReader(string(b)))
			checkErr(t, "Decode", err, "results: decode: ", tt.want)
		})
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	valid, err := results.Marshal(minimalResult())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "invalid json: EOF"},
		{"array", "[]", "want a json object, got array"},
		{"number", "1", "want a json object, got number"},
		{"truncated", string(valid[:len(valid)/2]), "invalid json"},
		{"trailing data", string(valid) + "{}", "invalid json: data after the document"},
		{"trailing newlines", string(valid) + "\n\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := results.Decode(strings.NewReader(tt.in))
			checkErr(t, "Decode", err, "results: decode: ", tt.want)
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.json")
	_, err := results.Read(path)
	checkErr(t, "Read", err, "results: read "+path+": ", "no such file or directory")
}

// checkErr checks err against want ("" for no error) and the prefix every
// error must carry.
func checkErr(t *testing.T, op string, err error, prefix, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: got error %v, want none", op, err)
	case want == "":
	case err == nil:
		t.Errorf("%s: got no error, want one containing %q", op, want)
	case !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), want):
		t.Errorf("%s: got error %q, want %q after prefix %q", op, err, want, prefix)
	}
}
