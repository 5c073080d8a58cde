package harness

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"flashbench/harness/report"
	"flashbench/internal/provenance"
	"flashbench/results"
)

// WriteSummary prints the run's table: for each sweep value, one row per
// architecture (in the experiment's order) with the median over trials of
// requests/s and its 95% confidence interval (report.Interval),
// connections/s, Mbit/s, the median p50 and p99 latencies, the server's
// CPU per request, its use of its budget, the client's CPU share and the
// trials' bound verdicts; failed and skipped cells say why. Cells served
// from a slow-disk model also show the medians of the device's reads per
// second and of its mean reads in flight. A note under the table says how
// the budget stretches latency; the paper's ratios follow, with their
// verdicts (report.PaperRatios), then the build the run was made from and
// how busy the machine was, then the experiment's targets with theirs
// (report.Targets), and the system call counts when the run made any.
func WriteSummary(w io.Writer, e *Experiment, out *Outcome) error {
	type cellKey struct{ arch, param string }
	var order []cellKey
	byCell := map[cellKey][]PointEntry{}
	params := map[string]int{}
	for _, p := range out.Index.Points {
		k := cellKey{p.Arch, paramString(p.Params)}
		if _, ok := byCell[k]; !ok {
			order = append(order, k)
		}
		if _, ok := params[k.param]; !ok {
			params[k.param] = len(params)
		}
		byCell[k] = append(byCell[k], p)
	}
	slices.SortStableFunc(order, func(a, b cellKey) int {
		return cmp.Or(cmp.Compare(params[a.param], params[b.param]), cmp.Compare(report.ArchRank(e.Archs, a.arch), report.ArchRank(e.Archs, b.arch)))
	})
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
			fmt.Fprintf(tw, "%s\t\t\t\t\t\t\t\t\t\t\t\t\n", title)
			fmt.Fprintln(tw, "arch\treq/s\t±95%\tconn/s\tMbit/s\tp50 ms\tp99 ms\tsrv µs/req\tsrv %\tcli %\ttrials\tbound\t")
			last = k.param
		}
		fmt.Fprintln(tw, summaryRow(k.arch, byCell[k], out.Results))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if note := budgetNote(out); note != "" {
		fmt.Fprintln(w, note)
	}
	if _, err := io.WriteString(w, runConditions(out)); err != nil {
		return err
	}
	if err := writeRatios(w, e, out); err != nil {
		return err
	}
	if err := writeTargets(w, e, out); err != nil {
		return err
	}
	return writeSyscalls(w, e, out)
}

// writeSyscalls prints the system call counts of the run, when it made
// any (report.SyscallCells).
func writeSyscalls(w io.Writer, e *Experiment, out *Outcome) error {
	if len(out.Syscalls) == 0 {
		return nil
	}
	header, rows := report.SyscallCells(out.Syscalls, e.Archs)
	fmt.Fprintf(w, "\nsystem calls (strace -c -f over %d requests per contender, unmeasured)\n", out.Syscalls[0].RequestsRequested)
	return writeTable(w, header, rows)
}

// reportPoints are the run's points as the report package reads them.
func reportPoints(e *Experiment, out *Outcome) []*report.Point {
	var points []*report.Point
	for _, p := range out.Index.Points {
		points = append(points, &report.Point{PointEntry: p, Experiment: e.Name, Result: out.Results[p.ID]})
	}
	return points
}

// writeTargets prints the experiment's targets measured in the run, with
// their intervals and verdicts, when it sets any.
func writeTargets(w io.Writer, e *Experiment, out *Outcome) error {
	if len(e.Targets) == 0 {
		return nil
	}
	rows, err := report.Targets(e.Source, reportPoints(e, out))
	if err != nil {
		return err
	}
	header, cells := report.TargetCells(rows)
	fmt.Fprintln(w, "\ntargets (server- and disk-bound trials only, the median of the per-round ratios; met: the 95% interval at or past the target)")
	return writeTable(w, header, cells)
}

// writeTable prints a header and rows of cells as aligned columns.
func writeTable(w io.Writer, header []string, cells [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, c := range cells {
		fmt.Fprintln(tw, strings.Join(c, "\t")+"\t")
	}
	return tw.Flush()
}

// writeRatios prints the paper's ratios measured in the run, with their
// intervals and verdicts, when the experiment gives any, and those of each
// architecture to its base contender when the run compared a base build.
func writeRatios(w io.Writer, e *Experiment, out *Outcome) error {
	based := slices.ContainsFunc(out.Index.Points, func(p PointEntry) bool { return strings.HasSuffix(p.Arch, BaseSuffix) })
	if (e.Paper == nil || len(e.Paper.Ratios) == 0) && !based {
		return nil
	}
	m, rows, err := report.PaperRatios(e.Source, reportPoints(e, out))
	if err != nil {
		return err
	}
	header, cells := report.RatioCells(rows)
	fmt.Fprintf(w, "\nratios (%s; server- and disk-bound trials only, the median of the per-round ratios)\n", m.Label)
	return writeTable(w, header, cells)
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
	var rps, cps, mbit, p50, p99, reads, inFlight, perReq, srvUse, cliUse []float64
	var reasons, verdicts []string
	unbudgeted, noQuota := false, false
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
		if b := r.Budget; b != nil {
			perReq, srvUse = append(perReq, b.ServerCPUPerRequestUS), append(srvUse, 100*b.ServerUtilization)
			unbudgeted = unbudgeted || b.ServerCPUCores == 0
			noQuota = noQuota || b.ServerCPUCores >= 1
		}
		if r.Client != nil {
			cliUse = append(cliUse, 100*r.Client.CPUUtilization)
		}
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
	switch {
	case unbudgeted:
		mark = " *unbudgeted" + mark
	case noQuota:
		mark = " *no CPU quota" + mark
	}
	if len(reads) > 0 {
		mark = fmt.Sprintf("  disk %.0f reads/s, %.2f in flight", median(reads), median(inFlight)) + mark
	}
	ci := report.Interval(rps)
	return fmt.Sprintf("%s\t%.0f\t±%s\t%.0f\t%.1f\t%.2f\t%.2f\t%s\t%s\t%s\t%d/%d\t%s\t%s", arch, ci.Center, ci.PctRangeString(),
		median(cps), median(mbit), median(p50), median(p99), orDash(perReq, "%.1f"), orDash(srvUse, "%.0f"), orDash(cliUse, "%.0f"),
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
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, p[k]))
	}
	return strings.Join(parts, " ")
}

func median(xs []float64) float64 { return report.Summarize(xs).Median }
