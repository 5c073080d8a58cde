package compare

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"

	"flashbench/harness/report"
)

// Format writes t as benchstat-like text: one table per metric, a row per
// group with each side's median ± its confidence interval (as a percentage
// of the median), the change or "~" when not significant, the p-value and
// the sample sizes; warnings as numbered footnotes under each table, and
// "!" after a side whose interval is wider than ±5% (noise).
func (t *Table) Format(w io.Writer) error {
	fmt.Fprintf(w, "old: %s\nnew: %s\n", t.OldName, t.NewName)
	var metric string
	var block []Row
	flush := func() error {
		if len(block) == 0 {
			return nil
		}
		return formatBlock(w, block)
	}
	for _, r := range t.Rows {
		if r.Metric.Name != metric {
			if err := flush(); err != nil {
				return err
			}
			metric, block = r.Metric.Name, nil
		}
		block = append(block, r)
	}
	return flush()
}

// formatBlock writes one metric's table and its footnotes.
func formatBlock(w io.Writer, rows []Row) error {
	m := rows[0].Metric
	fmt.Fprintf(w, "\n%s (%s)\n", m.Label, m.Unit)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "experiment\tarch\tsetting\told ± CI\tnew ± CI\tdelta\tp-value")
	var notes []string
	noise := false
	for _, r := range rows {
		var marks []string
		for _, warning := range r.Warnings {
			i := indexOf(notes, warning)
			if i < 0 {
				notes = append(notes, warning)
				i = len(notes) - 1
			}
			marks = append(marks, superscript(i+1))
		}
		noise = noise || r.OldNoisy || r.NewNoisy
		stats := ""
		if r.OldN > 0 && r.NewN > 0 {
			stats = r.Comparison.String()
		}
		delta := r.Delta
		if delta == "" {
			delta = "–"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", orDash(r.Experiment), r.Arch, orDash(r.Setting),
			side(r.Old, r.OldN, r.OldNoisy), side(r.New, r.NewN, r.NewNoisy), delta, stats, strings.Join(marks, ""))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("compare: format: %w", err)
	}
	for i, n := range notes {
		fmt.Fprintf(w, "%s %s\n", superscript(i+1), n)
	}
	if noise {
		fmt.Fprintf(w, "! noisy: confidence interval wider than ±%.0f%% of the median\n", 100*NoiseThreshold)
	}
	return nil
}

// side formats one side's median and confidence interval: "3986 ± 2%".
func side(s benchmath.Summary, n int, isNoisy bool) string {
	if n == 0 {
		return "–"
	}
	out := report.FormatValue(s.Center) + " ± " + s.PctRangeString()
	if isNoisy {
		out += " !"
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// superscript writes n in superscript digits, as benchstat marks its notes.
func superscript(n int) string {
	const digits = "⁰¹²³⁴⁵⁶⁷⁸⁹"
	var b strings.Builder
	for _, c := range strconv.Itoa(n) {
		b.WriteString(string([]rune(digits)[c-'0']))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
