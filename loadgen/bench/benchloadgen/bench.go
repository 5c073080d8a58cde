package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"flashbench/harness"
	"flashbench/internal/provenance"
	"flashbench/results"
)

// files are the two files nginx serves, by name.
var files = []struct {
	name string
	size int
}{{"500b", 500}, {"50kb", 51200}}

// smallConns is the memory run's baseline: peak RSS with few connections.
const smallConns = 10

// bench runs the comparison and writes the archive; it returns the
// archive's directory ("" when none was made) and the first failure. The
// summary is written with whatever was measured before a failure.
func bench(o options) (string, error) {
	var build results.Provenance
	provenance.SetBuild(&build, provenance.Binaries("benchloadgen", o.bin, "loadgen"))
	if err := provenance.CheckArchive(build, o.out, provenance.ArchiveDir(), o.allowDirty); err != nil {
		return "", err
	}
	for _, tool := range []string{"nginx", "wrk", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	if _, err := os.Stat(filepath.Join(o.bin, "loadgen")); err != nil {
		return "", fmt.Errorf("--bin %s: no loadgen there (make build): %w", o.bin, err)
	}
	start := time.Now().UTC()
	dir, err := harness.MakeRunDir(filepath.Join(o.out, "bench-loadgen"), start)
	if err != nil {
		return "", err
	}
	work, err := os.MkdirTemp("", "benchloadgen-")
	if err != nil {
		return dir, err
	}
	defer os.RemoveAll(work)
	root := filepath.Join(work, "www")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return dir, err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(root, f.name), []byte(strings.Repeat("a", f.size)), 0o644); err != nil {
			return dir, err
		}
	}
	srv, err := startNginx(filepath.Join(work, "nginx"), root, o.serverCore)
	if err != nil {
		return dir, err
	}
	defer srv.stop()
	s := newSummary(o, start)
	err = measureAll(o, dir, "http://"+srv.addr(), s)
	if werr := s.write(filepath.Join(dir, "summary.json")); err == nil {
		err = werr
	}
	s.print(o.stdout)
	return dir, err
}

// measureAll runs every case, then the memory runs, filling s.
func measureAll(o options, dir, base string, s *Summary) error {
	for _, f := range files {
		for _, keepalive := range []bool{true, false} {
			c := Case{File: f.name, FileSizeBytes: f.size, KeepAlive: keepalive}
			name := f.name + "-" + mode(keepalive)
			var err error
			if c.Wrk, err = runWrk(o, dir, "wrk-"+name, base+"/"+f.name, keepalive); err != nil {
				return err
			}
			perConn := "1"
			if keepalive {
				perConn = "0"
			}
			lg, res, err := runLoadgen(o, dir, "loadgen-"+name, base+"/"+f.name, o.conns, o.duration, "--requests-per-conn", perConn)
			if err != nil {
				return err
			}
			c.Loadgen = lg
			s.adopt(res)
			c.ratios()
			s.Cases = append(s.Cases, c)
		}
	}
	if o.idleConns == 0 {
		return nil
	}
	m := Memory{IdleConnections: o.idleConns, BaselineConnections: smallConns}
	idle := []string{"--requests-per-conn", "0", "--think-time", "100ms", "--timeout", "20s"}
	var err error
	if m.Baseline, _, err = runLoadgen(o, dir, fmt.Sprintf("loadgen-idle-%d", smallConns), base+"/500b", smallConns, o.idleDuration, idle...); err != nil {
		return err
	}
	if m.Idle, _, err = runLoadgen(o, dir, fmt.Sprintf("loadgen-idle-%d", o.idleConns), base+"/500b", o.idleConns, o.idleDuration, idle...); err != nil {
		return err
	}
	m.BytesPerConnection = float64(m.Idle.PeakRSSBytes-m.Baseline.PeakRSSBytes) / float64(o.idleConns-smallConns)
	s.Memory = &m
	return nil
}

func mode(keepalive bool) string {
	if keepalive {
		return "keepalive"
	}
	return "close"
}

// tools returns the versions of nginx and wrk, for the provenance.
func tools() results.Map[string] {
	t := results.Map[string]{}
	if v, err := provenance.ToolVersion("nginx", "-v"); err == nil {
		t["nginx"] = v
	}
	// wrk prints its version only with its usage, exiting 1: the
	// package's version says the same.
	if v, err := provenance.PackageVersion("wrk"); err == nil {
		t["wrk"] = v
	}
	return t
}
