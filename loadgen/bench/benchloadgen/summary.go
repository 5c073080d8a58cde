package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"flashbench/internal/atomicfile"
	"flashbench/results"
)

// SummarySchemaVersion is summary.json's schema_version.
const SummarySchemaVersion = 1

// Summary is summary.json: what one comparison measured.
type Summary struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          string    `json:"tool"`
	StartedAt     time.Time `json:"started_at"`
	// Provenance is a loadgen result's, with nginx's and wrk's versions
	// in its tools.
	Provenance  *results.Provenance `json:"provenance"`
	Server      string              `json:"server"`
	ServerCore  int                 `json:"server_core"`
	ClientCore  int                 `json:"client_core"`
	Connections int                 `json:"connections"`
	DurationS   float64             `json:"duration_s"`
	Cases       []Case              `json:"cases"`
	// Memory is the memory runs' figures; nil when none ran.
	Memory *Memory `json:"memory,omitempty"`
}

// Case is one file and connection mode, wrk against loadgen.
type Case struct {
	File          string `json:"file"`
	FileSizeBytes int    `json:"file_size_bytes"`
	KeepAlive     bool   `json:"keepalive"`
	Wrk           Run    `json:"wrk"`
	Loadgen       Run    `json:"loadgen"`
	// ThroughputRatio is loadgen's requests/s over wrk's (its target:
	// 0.95 or more), CPUPerRequestRatio loadgen's CPU per request over
	// wrk's (target: 1 or less); 0 when a side measured nothing.
	ThroughputRatio    float64 `json:"throughput_ratio"`
	CPUPerRequestRatio float64 `json:"cpu_per_request_ratio"`
}

// Memory is loadgen's peak RSS with few and with many idle keep-alive
// connections, and the cost of one connection from their difference.
type Memory struct {
	BaselineConnections int     `json:"baseline_connections"`
	IdleConnections     int     `json:"idle_connections"`
	Baseline            Run     `json:"baseline"`
	Idle                Run     `json:"idle"`
	BytesPerConnection  float64 `json:"bytes_per_connection"`
}

func newSummary(o options, start time.Time) *Summary {
	return &Summary{SchemaVersion: SummarySchemaVersion, Tool: "benchloadgen", StartedAt: start, Server: "nginx",
		ServerCore: o.serverCore, ClientCore: o.clientCore, Connections: o.conns, DurationS: o.duration.Seconds(),
		Cases: []Case{}}
}

// adopt takes res's provenance for the summary, once, adding the versions
// of the programs the comparison ran beside loadgen.
func (s *Summary) adopt(res *results.Result) {
	if s.Provenance != nil {
		return
	}
	p := res.Provenance
	p.Tools = tools()
	s.Provenance = &p
}

func (c *Case) ratios() {
	if c.Wrk.ThroughputRPS > 0 {
		c.ThroughputRatio = c.Loadgen.ThroughputRPS / c.Wrk.ThroughputRPS
	}
	if c.Wrk.CPUUSPerReq > 0 {
		c.CPUPerRequestRatio = c.Loadgen.CPUUSPerReq / c.Wrk.CPUUSPerReq
	}
}

// write stores s at path atomically (temp file, fsync, rename).
func (s *Summary) write(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n')); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

// print writes the table of cases and the memory line.
func (s *Summary) print(w io.Writer) {
	fmt.Fprintf(w, "%-6s %-10s %12s %12s %14s %14s %10s %10s %-7s %-7s\n",
		"file", "mode", "wrk_rps", "lg_rps", "wrk_us_cpu/req", "lg_us_cpu/req", "rps_ratio", "cpu_ratio", "wrk", "loadgen")
	for _, c := range s.Cases {
		fmt.Fprintf(w, "%-6s %-10s %12.0f %12.0f %14.2f %14.2f %10.3f %10.3f %-7s %-7s\n", c.File, mode(c.KeepAlive),
			c.Wrk.ThroughputRPS, c.Loadgen.ThroughputRPS, c.Wrk.CPUUSPerReq, c.Loadgen.CPUUSPerReq,
			c.ThroughputRatio, c.CPUPerRequestRatio, c.Wrk.Bound.Verdict, c.Loadgen.Bound.Verdict)
	}
	if m := s.Memory; m != nil {
		fmt.Fprintf(w, "memory: %d connections peak RSS %d KB, %d connections %d KB: %.0f bytes per connection (target < 20480), errors %d\n",
			m.IdleConnections, m.Idle.PeakRSSBytes/1024, m.BaselineConnections, m.Baseline.PeakRSSBytes/1024,
			m.BytesPerConnection, m.Idle.ErrorsTotal)
	}
	fmt.Fprintln(w, "bound: the harness's verdict from the client's CPU share; client (at 90% of its core or more) is what this comparison wants")
}
