package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"flashbench/harness"
	"flashbench/results"
)

// Run is one client run as the summary records it.
type Run struct {
	// File is the run's output beside the summary: loadgen's result
	// document, or wrk's text.
	File           string  `json:"file"`
	RequestsTotal  int64   `json:"requests_total"`
	ErrorsTotal    int64   `json:"errors_total"`
	ThroughputRPS  float64 `json:"throughput_rps"`
	WallS          float64 `json:"wall_s"`
	CPUS           float64 `json:"cpu_s"`
	CPUUSPerReq    float64 `json:"cpu_us_per_request"`
	PeakRSSBytes   int64   `json:"peak_rss_bytes"`
	CPUUtilization float64 `json:"client_cpu_utilization"`
	// Bound is the harness's verdict from the client's CPU share: client
	// at 90% of its core or more.
	Bound results.Bound `json:"bound"`
}

// usage is what a finished client process consumed.
type usage struct {
	wall, cpu time.Duration
	rssBytes  int64
}

// runPinned runs prog with args on core, its stdout to out, and returns
// what it consumed (rusage of the process: taskset execs prog).
func runPinned(core int, out string, prog string, args ...string) (usage, error) {
	f, err := os.Create(out)
	if err != nil {
		return usage{}, err
	}
	defer f.Close()
	var stderr bytes.Buffer
	cmd := exec.Command("taskset", append([]string{"-c", strconv.Itoa(core), prog}, args...)...)
	cmd.Stdout, cmd.Stderr = f, &stderr
	start := time.Now()
	err = cmd.Run()
	u := usage{wall: time.Since(start)}
	if st := cmd.ProcessState; st != nil {
		u.cpu = st.UserTime() + st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			u.rssBytes = ru.Maxrss * 1024
		}
	}
	if err != nil {
		return u, fmt.Errorf("%s: %w: %s", filepath.Base(prog), err, firstLine(stderr.String()))
	}
	return u, nil
}

// runLoadgen runs loadgen against url, its result document to
// dir/name.json, and reads it back.
func runLoadgen(o options, dir, name, url string, conns int, d time.Duration, extra ...string) (Run, *results.Result, error) {
	doc := name + ".json"
	args := append([]string{"-t", "1", "-c", strconv.Itoa(conns), "-d", d.String(), "--warmup", "0s",
		"-o", filepath.Join(dir, doc)}, extra...)
	u, err := runPinned(o.clientCore, filepath.Join(dir, name+".txt"), filepath.Join(o.bin, "loadgen"), append(args, url)...)
	if err != nil {
		return Run{}, nil, err
	}
	res, err := results.Read(filepath.Join(dir, doc))
	if err != nil {
		return Run{}, nil, err
	}
	r := Run{File: doc, RequestsTotal: res.RequestsTotal, ErrorsTotal: res.ErrorsTotal, ThroughputRPS: res.ThroughputRPS,
		Bound: harness.BoundOf(res, 0)}
	if res.Client != nil {
		r.CPUUtilization = res.Client.CPUUtilization
	}
	r.setUsage(u)
	return r, res, nil
}

// wrkLine are the lines of wrk's output the summary reads.
var (
	wrkRequests = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s*([0-9.]+)`)
	wrkSocket   = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkStatus   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
)

// runWrk runs wrk against url, its output to dir/name.txt. The client's
// CPU share is its CPU time over its wall time: one thread, one core.
func runWrk(o options, dir, name, url string, keepalive bool) (Run, error) {
	// wrk reads whole seconds only (validate checks --duration is).
	args := []string{"-t", "1", "-c", strconv.Itoa(o.conns), "-d", strconv.Itoa(int(o.duration/time.Second)) + "s"}
	if !keepalive {
		args = append(args, "-H", "Connection: close")
	}
	out := filepath.Join(dir, name+".txt")
	u, err := runPinned(o.clientCore, out, "wrk", append(args, url)...)
	if err != nil {
		return Run{}, err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return Run{}, err
	}
	r, err := parseWrk(string(b))
	if err != nil {
		return Run{}, fmt.Errorf("wrk: %s: %w", out, err)
	}
	r.File = name + ".txt"
	r.setUsage(u)
	r.CPUUtilization = u.cpu.Seconds() / u.wall.Seconds()
	r.Bound = clientBound(r.CPUUtilization)
	return r, nil
}

// clientBound is the harness's verdict (harness.BoundOf) on a run of
// which only the client's CPU share is known: client at
// harness.ClientBoundAt of its core or more, else undecided.
func clientBound(util float64) results.Bound {
	return harness.BoundOf(&results.Result{Client: &results.Client{CPUUtilization: util}}, 0)
}

// parseWrk reads requests, requests/s and errors from wrk's output.
func parseWrk(s string) (Run, error) {
	var r Run
	m, n := wrkRequests.FindStringSubmatch(s), wrkRPS.FindStringSubmatch(s)
	if m == nil || n == nil {
		return r, fmt.Errorf("no %q or %q line", "N requests in", "Requests/sec:")
	}
	r.RequestsTotal, _ = strconv.ParseInt(m[1], 10, 64)
	r.ThroughputRPS, _ = strconv.ParseFloat(n[1], 64)
	for _, e := range append(wrkSocket.FindStringSubmatch(s), wrkStatus.FindStringSubmatch(s)...) {
		if v, err := strconv.ParseInt(e, 10, 64); err == nil {
			r.ErrorsTotal += v
		}
	}
	return r, nil
}

func (r *Run) setUsage(u usage) {
	r.WallS, r.CPUS, r.PeakRSSBytes = u.wall.Seconds(), u.cpu.Seconds(), u.rssBytes
	if r.RequestsTotal > 0 {
		r.CPUUSPerReq = 1e6 * r.CPUS / float64(r.RequestsTotal)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
