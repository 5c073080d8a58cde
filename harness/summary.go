package harness

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"flashbench/harness/report"
	"flashbench/results"
)

// WriteSummary prints the run's table: for each sweep value, one row per
// architecture with the median over trials of requests/s (and its spread,
// half the range as a share of the median), connections/s, Mbit/s, the
// median p50 and p99 latencies, the server's CPU per request, its use of
// its budget, the client's CPU share and the trials' bound verdicts;
// failed and skipped cells say why. Cells served from a slow-disk model
// also show the medians of the device's reads per second and of its mean
// reads in flight. A note under the table says how the budget stretches
// latency.
func WriteSummary(w io.Writer, e *Experiment, out *Outcome) error {
	type cellKey struct{ arch, param string }
	var order []cellKey
	byCell := map[cellKey][]PointEntry{}
	for _, p := range out.Index.Points {
		k := cellKey{p.Arch, paramString(p.Params)}
		if _, ok := byCell[k]; !ok {
			order = append(order, k)
		}
		byCell[k] = append(byCell[k], p)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	last := "\x00"
	for _, k := range order {
		if k.param != last {
			if last != "\x00" {
				fmt.Fprintln(tw)
			}
			title := e.Name
			if k.param != "" {
				title += "  " + k.param
			}
			fmt.Fprintf(tw, "%s\t\t\t\t\t\t\t\t\t\t\t\n", title)
			fmt.Fprintln(tw, "arch\treq/s\tspread\tconn/s\tMbit/s\tp50 ms\tp99 ms\tsrv µs/req\tsrv %\tcli %\ttrials\tbound\t")
			last = k.param
		}
		fmt.Fprintln(tw, summaryRow(k.arch, byCell[k], out.Results))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if note := budgetNote(out); note != "" {
		_, err := fmt.Fprintln(w, note)
		return err
	}
	return nil
}

func summaryRow(arch string, pts []PointEntry, res map[string]*results.Result) string {
	var rps, cps, mbit, p50, p99, reads, inFlight, perReq, srvUse, cliUse []float64
	var reasons, verdicts []string
	unbudgeted := false
	mark := ""
	for _, p := range pts {
		r := res[p.ID]
		if p.Status != StatusOK || r == nil {
			reasons = append(reasons, p.Status+": "+p.Reason)
			continue
		}
		if r.Client.Saturated {
			mark = " *client saturated"
		}
		rps = append(rps, r.ThroughputRPS)
		cps = append(cps, r.ConnectionsPerS)
		mbit = append(mbit, r.BytesPerS*8/1e6)
		p50 = append(p50, float64(r.LatencyUS.P50)/1000)
		p99 = append(p99, float64(r.LatencyUS.P99)/1000)
		if b := r.Budget; b != nil {
			perReq, srvUse = append(perReq, b.ServerCPUPerRequestUS), append(srvUse, 100*b.ServerUtilization)
			unbudgeted = unbudgeted || b.ServerCPUCores == 0
		}
		cliUse = append(cliUse, 100*r.Client.CPUUtilization)
		if r.Bound != nil {
			verdicts = append(verdicts, r.Bound.Verdict)
		}
		if r.Disk != nil && r.DurationS > 0 {
			reads = append(reads, float64(r.Disk.Reads)/r.DurationS)
			inFlight = append(inFlight, r.Disk.MeanInFlight)
		}
	}
	if len(rps) == 0 {
		why := "-"
		if len(reasons) > 0 {
			why = reasons[0]
			if len(why) > 90 {
				why = why[:90] + "..."
			}
		}
		return fmt.Sprintf("%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t0/%d\t-\t  %s", arch, len(pts), why)
	}
	if unbudgeted {
		mark = " *unbudgeted" + mark
	}
	if len(reads) > 0 {
		mark = fmt.Sprintf("  disk %.0f reads/s, %.2f in flight", median(reads), median(inFlight)) + mark
	}
	m := median(rps)
	spread := 0.0
	if m > 0 {
		spread = 100 * (maxOf(rps) - minOf(rps)) / 2 / m
	}
	return fmt.Sprintf("%s\t%.0f\t±%.1f%%\t%.0f\t%.1f\t%.2f\t%.2f\t%s\t%s\t%.0f\t%d/%d\t%s\t%s", arch, m, spread,
		median(cps), median(mbit), median(p50), median(p99), orDash(perReq, "%.1f"), orDash(srvUse, "%.0f"), median(cliUse),
		len(rps), len(pts), report.BoundCell(verdicts), mark)
}

// orDash formats the median of xs, "-" when there is none.
func orDash(xs []float64, format string) string {
	if len(xs) == 0 {
		return "-"
	}
	return fmt.Sprintf(format, median(xs))
}

// budgetNote is the line under the table about the budget: how it
// stretches latency, or why there was none.
func budgetNote(out *Outcome) string {
	for _, r := range out.Results {
		switch b := r.Budget; {
		case b == nil:
		case b.ServerCPUCores == 0:
			return "unbudgeted: " + b.UnbudgetedReason
		case b.PeriodUS > 0:
			return fmt.Sprintf("server CPU budget %g cores per %d ms period: a request may wait up to %.1f ms while the server is throttled (latencies include it)",
				b.ServerCPUCores, b.PeriodUS/1000, (1-b.ServerCPUCores)*float64(b.PeriodUS)/1000)
		}
	}
	return ""
}

func paramString(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, p[k]))
	}
	return strings.Join(parts, " ")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
