package loadgen

import (
	"fmt"
	"strings"

	"flashbench/internal/provenance"
	"flashbench/results"
)

// Tool is the value of a result document's "tool" key.
const Tool = "loadgen"

// Paths records where a run's workload came from, for the result document.
type Paths struct {
	Manifest, URLs, Trace string
}

// Result returns the report as a result document (results schema).
func (r *Report) Result(paths Paths) (*results.Result, error) {
	c := &r.Config
	res := &results.Result{
		SchemaVersion: results.SchemaVersion,
		Tool:          Tool,
		StartedAt:     r.StartedAt,
		DurationS:     r.Elapsed.Seconds(),
		Config: results.Config{
			Targets: results.List[string]{c.URL}, Connections: c.Connections, Threads: c.Threads,
			DurationS: c.Duration.Seconds(), WarmupS: c.Warmup.Seconds(),
			RequestsPerConn: c.RequestsPerConn, Pipeline: c.Pipeline, RateRPS: c.Rate,
			TimeoutS: c.Timeout.Seconds(), Workload: workloadName(c.Workload),
			ManifestPath: paths.Manifest, URLsPath: paths.URLs, TracePath: paths.Trace,
			Verify: c.Verify, Extra: r.extra(),
		},
		Provenance: provenanceOf(),
		HostLoad:   r.HostLoad,
		Client: &results.Client{
			CPUUserS: r.CPU.User.Seconds(), CPUSystemS: r.CPU.System.Seconds(),
			CPUUtilization: r.CPU.Utilization, Saturated: r.CPU.Saturated,
		},
		RequestsTotal:     r.Requests,
		ThroughputRPS:     r.Throughput(),
		ConnectionsPerS:   perSecond(r.Connections, r.Elapsed),
		BytesPerS:         perSecond(r.Bytes, r.Elapsed),
		Errors:            r.Errors.Result(),
		ErrorsTotal:       r.Errors.Total(),
		Note:              r.Note,
		LatencyUS:         results.LatencyFrom(r.Latency),
		Interrupted:       r.Interrupted,
		InterruptedReason: r.InterruptedReason,
		AbortedRequests:   r.Aborted,
		Series:            r.series(),
	}
	res.DominantError = res.Errors.Dominant()
	if c.Arrival != ArrivalClosed {
		res.OpenLoop = &results.OpenLoop{
			OfferedRPS: c.Rate, AchievedRPS: r.Throughput(), LateSends: r.Late,
			UncorrectedLatencyUS: results.LatencyFrom(r.Uncorrected),
		}
	}
	if c.SClient {
		res.SClient = &results.SClient{
			OfferedConnPerS:  perSecond(r.ConnectAttempt, r.Elapsed),
			AchievedConnPerS: perSecond(r.Connections, r.Elapsed),
			AbortedConnects:  r.AbortedConnects,
		}
	}
	if err := r.setHistograms(res); err != nil {
		return nil, err
	}
	return res, nil
}

func (r *Report) setHistograms(res *results.Result) error {
	if err := res.SetHistogram(results.HistogramTotal, r.Latency); err != nil {
		return err
	}
	if err := res.SetHistogram(results.HistogramConnect, r.Connect); err != nil {
		return err
	}
	if err := res.SetHistogram(results.HistogramTTFB, r.TTFB); err != nil {
		return err
	}
	if r.Config.Arrival != ArrivalClosed {
		// A closed loop sends when it means to: its uncorrected latency
		// is the total latency, not worth storing twice.
		if err := res.SetHistogram(results.HistogramUncorrected, r.Uncorrected); err != nil {
			return err
		}
	}
	for i, h := range r.Histograms.Classes {
		if h == nil {
			continue
		}
		if err := res.SetHistogram(results.ClassHistogram(i), h); err != nil {
			return err
		}
	}
	return nil
}

// extra holds what the fixed configuration keys do not: the models'
// parameters and the connection attempts. S-Client runs say so with the
// result's sclient object, interrupted ones with aborted_requests.
func (r *Report) extra() results.Object {
	c := &r.Config
	x := results.Object{
		"arrival":            c.Arrival,
		"think_time_s":       c.ThinkTime.Seconds(),
		"connect_timeout_s":  c.ConnectTimeout.Seconds(),
		"close_with_reset":   c.CloseWithReset,
		"seed":               c.Seed,
		"connect_attempts":   r.ConnectAttempt,
		"client_cores":       r.CPU.Cores,
		"requests_requested": c.Requests,
		"warmup_requests":    r.WarmupRequests,
	}
	if tr, ok := c.Workload.(*Trace); ok {
		x["trace_requests"] = tr.Len()
	}
	if len(c.Sources) > 0 {
		src := make([]string, len(c.Sources))
		for i, s := range c.Sources {
			src[i] = s.String()
		}
		x["sources"] = strings.Join(src, ",")
	}
	return x
}

func (r *Report) series() results.List[results.Interval] {
	var out results.List[results.Interval]
	for _, iv := range r.Intervals {
		if iv.Length <= 0 {
			continue
		}
		out = append(out, results.Interval{
			TS:            (iv.Start + iv.Length).Seconds(),
			Requests:      iv.Counts.Requests,
			ThroughputRPS: perSecond(iv.Counts.Requests, iv.Length),
			P99US:         iv.Latency.ValueAtQuantile(99),
			Errors:        iv.Counts.Errors.Total(),
		})
	}
	return out
}

// Result converts the counts to the result document's error classes.
func (e *Errors) Result() results.Errors {
	return results.Errors{
		ConnectRefused: e[ConnectRefused], ConnectTimeout: e[ConnectTimeout], Reset: e[Reset],
		Read: e[ReadError], Write: e[WriteError], Timeout: e[Timeout], BadStatus: e[BadStatus],
		ShortBody: e[ShortBody], ChecksumMismatch: e[ChecksumMismatch], AddrExhausted: e[AddrExhausted],
	}
}

func workloadName(w Workload) string {
	switch w.(type) {
	case *Single:
		return "single"
	case *Weighted:
		return "urls"
	case *Manifest:
		return "manifest"
	case *Trace:
		return "trace"
	}
	return fmt.Sprintf("%T", w)
}

// provenanceOf records what a client can know on its own: its machine
// and its own build; the harness replaces it with the run's.
func provenanceOf() results.Provenance {
	p := provenance.Machine()
	provenance.SetBuild(&p, map[string]results.Binary{Tool: provenance.Self()})
	return p
}
