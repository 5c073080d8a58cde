package harness

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"flashbench/internal/provenance"
	"flashbench/results"
)

// WriteSummary prints the run's table: for each sweep value, one row per
// architecture with the median over trials of requests/s (and its spread,
// half the range as a share of the median), connections/s, Mbit/s and the
// median p50 and p99 latencies; failed and skipped cells say why. Cells
// served from a slow-disk model also show the medians of the device's
// reads per second and of its mean reads in flight. Below the table, the
// build the run was made from and how busy the machine was.
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
			fmt.Fprintf(tw, "%s\t\t\t\t\t\t\t\n", title)
			fmt.Fprintln(tw, "arch\treq/s\tspread\tconn/s\tMbit/s\tp50 ms\tp99 ms\ttrials\t")
			last = k.param
		}
		fmt.Fprintln(tw, summaryRow(k.arch, byCell[k], out.Results))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, runConditions(out))
	return err
}

// runConditions is the build the run was made from and the highest load
// and steal of any of its measurements (provenance.Conditions).
func runConditions(out *Outcome) string {
	var worst *results.HostLoad
	n := 0
	for _, pt := range out.Index.Points {
		if r := out.Results[pt.ID]; r != nil && r.HostLoad != nil {
			worst = results.WorstHostLoad(worst, r.HostLoad)
			n++
		}
	}
	return "\n" + provenance.Conditions(out.Index.Provenance, worst, n)
}

// hostNote is a point's host load for its progress line: the load
// average's maximum and the steal, and NOISY when the machine was too
// busy.
func hostNote(r *results.Result) string {
	h := r.HostLoad
	if h == nil {
		return ""
	}
	note := fmt.Sprintf(" (load %.2f, steal %.1f%%", h.LoadAverage1mMax, 100*h.CPUStealFraction)
	if why := h.Noisy(r.Provenance.CPUs); why != "" {
		note += ", NOISY: " + why
	}
	return note + ")"
}

func summaryRow(arch string, pts []PointEntry, res map[string]*results.Result) string {
	var rps, cps, mbit, p50, p99, reads, inFlight []float64
	var reasons []string
	mark := ""
	for _, p := range pts {
		r := res[p.ID]
		if p.Status != StatusOK || r == nil {
			reasons = append(reasons, p.Status+": "+p.Reason)
			continue
		}
		if r.Client != nil && r.Client.Saturated {
			mark = " *client saturated"
		}
		rps = append(rps, r.ThroughputRPS)
		cps = append(cps, r.ConnectionsPerS)
		mbit = append(mbit, r.BytesPerS*8/1e6)
		p50 = append(p50, float64(r.LatencyUS.P50)/1000)
		p99 = append(p99, float64(r.LatencyUS.P99)/1000)
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
		return fmt.Sprintf("%s\t-\t-\t-\t-\t-\t-\t0/%d\t  %s", arch, len(pts), why)
	}
	if len(reads) > 0 {
		mark = fmt.Sprintf("  disk %.0f reads/s, %.2f in flight", median(reads), median(inFlight)) + mark
	}
	m := median(rps)
	spread := 0.0
	if m > 0 {
		spread = 100 * (maxOf(rps) - minOf(rps)) / 2 / m
	}
	return fmt.Sprintf("%s\t%.0f\t±%.1f%%\t%.0f\t%.1f\t%.2f\t%.2f\t%d/%d\t%s", arch, m, spread,
		median(cps), median(mbit), median(p50), median(p99), len(rps), len(pts), mark)
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
