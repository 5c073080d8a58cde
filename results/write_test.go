package results_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/results"
)

func TestWriteReadRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		r    *results.Result
	}{
		{"full", sampleResult(t)},
		{"minimal", minimalResult()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.json")
			if err := results.Write(path, tt.r); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := results.Read(path)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(got, tt.r) {
				t.Errorf("Read after Write:\ngot  %+v\nwant %+v", got, tt.r)
			}
		})
	}
}

func TestWriteEmptyCollections(t *testing.T) {
	b, err := results.Marshal(minimalResult())
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	for _, want := range []string{
		`"targets": []`, `"extra": {}`, `"server_cpus": []`, `"sysctls": {}`, `"stats": {}`,
		`"histograms": {}`, `"series": []`, `"started_at": "2025-01-02T03:04:05.000000006Z"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Marshal(minimal result): no %s in\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "null") || strings.Contains(string(b), "open_loop") {
		t.Errorf("Marshal(minimal result): got null or open_loop in\n%s", b)
	}
}

func TestWriteConvertsToUTC(t *testing.T) {
	r := minimalResult()
	want := r.StartedAt
	r.StartedAt = want.In(time.FixedZone("CET", 3600))
	path := filepath.Join(t.TempDir(), "run.json")
	if err := results.Write(path, r); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := results.Read(path)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got.StartedAt != want {
		t.Errorf("started_at: got %v, want %v", got.StartedAt, want)
	}
}

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	first, second := minimalResult(), sampleResult(t)
	for _, r := range []*results.Result{first, second} {
		if err := results.Write(path, r); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	got, err := results.Read(path)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !reflect.DeepEqual(got, second) {
		t.Errorf("Read after two writes: got tool %q with %d requests, want the second result", got.Tool, got.RequestsTotal)
	}
	assertOnly(t, dir, "run.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o644 {
		t.Errorf("mode: got %v, want %v", got, os.FileMode(0o644))
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	r := sampleResult(t)
	r.ErrorsTotal++
	err := results.Write(path, r)
	want := "results: write " + path + ": invalid result: errors_total: got 6, want 5"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Write(errors_total off by one): got %v, want %q", err, want)
	}
	assertOnly(t, dir)
}

// TestWriteFailureKeepsEarlierFile makes the final rename fail (the target is
// a non-empty directory) and checks that the temporary file is gone.
func TestWriteFailureKeepsEarlierFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	if err := os.MkdirAll(filepath.Join(path, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := results.Write(path, minimalResult())
	if err == nil || !strings.HasPrefix(err.Error(), "results: write "+path+": ") {
		t.Fatalf("Write over a directory: got %v, want an error prefixed results: write %s", err, path)
	}
	assertOnly(t, dir, "run.json")
	assertOnly(t, path, "keep")
}

// TestWriteFullDisk fills a 64 KiB tmpfs: the failed write must leave the
// earlier result intact and no temporary file behind.
func TestWriteFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs (no CAP_SYS_ADMIN here?): %v", os.NewSyscallError("mount", err))
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	path := filepath.Join(dir, "run.json")
	small := sampleResult(t)
	if err := results.Write(path, small); err != nil {
		t.Fatalf("Write(small): %v", err)
	}
	huge := sampleResult(t)
	huge.Config.Extra["blob"] = strings.Repeat("x", 1<<20)
	err := results.Write(path, huge)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write(1 MiB result on 64 KiB tmpfs): got %v, want ENOSPC", err)
	}
	if !strings.HasPrefix(err.Error(), "results: write "+path+": ") {
		t.Errorf("error: got %q, want prefix %q", err, "results: write "+path+": ")
	}
	got, err := results.Read(path)
	if err != nil {
		t.Fatalf("Read after failed write: %v", err)
	}
	if !reflect.DeepEqual(got, small) {
		t.Errorf("Read after failed write: got a result that differs from the earlier one")
	}
	assertOnly(t, dir, "run.json")
}

// assertOnly checks that dir holds exactly the named entries.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *results.Result)
		want   string
	}{
		{"valid", func(r *results.Result) {}, ""},
		{"NaN duration", func(r *results.Result) { r.DurationS = math.NaN() }, "duration_s: not a finite number (NaN)"},
		{"infinite rate", func(r *results.Result) { r.ThroughputRPS = math.Inf(1) }, "throughput_rps: not a finite number (+Inf)"},
		{"negative cpu", func(r *results.Result) { r.Provenance.CorePinning.ServerCPUs[0] = -1 },
			"provenance.core_pinning.server_cpus[0]: negative count (-1)"},
		{"version", func(r *results.Result) { r.SchemaVersion = 0 }, "unsupported schema_version 0"},
		{"zero time", func(r *results.Result) { r.StartedAt = time.Time{} }, "started_at: zero time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sampleResult(t)
			tt.mutate(r)
			checkErr(t, "Validate", r.Validate(), "results: invalid result: ", tt.want)
		})
	}
}
