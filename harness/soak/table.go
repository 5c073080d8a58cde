package soak

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"flashbench/internal/provenance"
)

// columns are the per-architecture table's headings.
var columns = []string{"arch", "requests", "errors by class", "unexplained", "fds start→end",
	"cached files start→end", "anon RSS MiB start→end", "processes start→end", "faults", "verdict"}

// rows returns the per-architecture table, one row per architecture.
func (rep *Report) rows() [][]string {
	var out [][]string
	for _, a := range rep.Archs {
		verdict := "pass"
		if !a.Passed {
			verdict = fmt.Sprintf("FAIL (%d)", len(a.Failures))
		}
		out = append(out, []string{a.Arch, fmt.Sprint(a.Requests), classList(a.Errors),
			fmt.Sprint(a.ErrorsUnexplained.Total()),
			fmt.Sprintf("%d→%d", a.Start.FDsCoreNonFile, a.End.FDsCoreNonFile),
			fmt.Sprintf("%d→%d", a.Start.CachedFileFDs, a.End.CachedFileFDs),
			fmt.Sprintf("%.1f→%.1f", mibf(a.Start.RSSAnonCoreBytes), mibf(a.End.RSSAnonCoreBytes)),
			fmt.Sprintf("%d→%d", a.Start.Processes, a.End.Processes),
			fmt.Sprint(a.FaultsInjected), verdict})
	}
	return out
}

func mibf(b int64) float64 { return float64(b) / (1 << 20) }

// WriteText prints the table, the failures and where the run went.
func (rep *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	for _, row := range rep.rows() {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d faults (%s); results: %d interval files, %d read back, %d requests\n",
		len(rep.Faults), rep.kindCounts(), rep.Results.IntervalFiles, rep.Results.FilesReadBack, rep.Results.RequestsReadBack)
	fmt.Fprint(w, provenance.Conditions(rep.Provenance, rep.HostLoad, rep.HostLoadIntervals))
	for _, f := range rep.Findings {
		fmt.Fprintln(w, "finding: "+f)
	}
	for _, f := range rep.Failures {
		fmt.Fprintln(w, "FAIL "+f)
	}
	verdict := "PASSED"
	if !rep.Passed {
		verdict = "FAILED"
	}
	_, err := fmt.Fprintf(w, "soak %s in %.0fs: %s\n", verdict, rep.ElapsedS, rep.Dir)
	return err
}

// kindCounts renders the number of faults of each kind.
func (rep *Report) kindCounts() string {
	var parts []string
	for _, k := range rep.Kinds() {
		parts = append(parts, fmt.Sprintf("%s %d", k, rep.byKind[k]))
	}
	return strings.Join(parts, ", ")
}

// Markdown renders the report as soak.md.
func (rep *Report) Markdown() string {
	var b strings.Builder
	verdict := "passed"
	if !rep.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "# Soak run: %s\n\n", verdict)
	fmt.Fprintf(&b, "Started %s; load %.0f s in %.0f-s intervals, %d clients per group, think time %.0f ms, seed %d; whole run %.0f s.\n",
		rep.StartedAt.UTC().Format("2006-01-02 15:04:05Z"), rep.DurationS, rep.IntervalS, rep.Connections,
		rep.ThinkTimeMS, rep.Seed, rep.ElapsedS)
	fmt.Fprintf(&b, "File set: %s, %d files, %d bytes.\n", rep.FileSet.Kind, rep.FileSet.Files, rep.FileSet.TotalBytes)
	// One line each, kept apart by Markdown's hard line break.
	b.WriteString(strings.ReplaceAll(provenance.Conditions(rep.Provenance, rep.HostLoad, rep.HostLoadIntervals), "\n", "  \n"))
	b.WriteString("\n")
	mdTable(&b, columns, rep.rows())
	fmt.Fprintf(&b, "\nResults read back: %d of %d interval files, %d requests (counted %d), %d errors (counted %d).\n",
		rep.Results.FilesReadBack, rep.Results.IntervalFiles, rep.Results.RequestsReadBack,
		rep.Results.RequestsCounted, rep.Results.ErrorsReadBack, rep.Results.ErrorsCounted)
	mdList(&b, "Failures", rep.Failures)
	mdList(&b, "Findings (reported, not failures)", rep.Findings)
	fmt.Fprintf(&b, "\n## Faults (%s)\n\n", rep.kindCounts())
	var rows [][]string
	for _, f := range rep.Faults {
		out := f.Outcome
		if f.Finding != "" {
			out += " — finding: " + f.Finding
		}
		rows = append(rows, []string{fmt.Sprintf("%.1f", f.AtS), f.Arch, f.Kind, strings.ReplaceAll(out, "|", "/")})
	}
	mdTable(&b, []string{"at s", "arch", "kind", "outcome"}, rows)
	return b.String()
}

func mdTable(b *strings.Builder, head []string, rows [][]string) {
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, r := range rows {
		fmt.Fprintf(b, "| %s |\n", strings.Join(r, " | "))
	}
}

func mdList(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## %s\n\n", title)
	for _, it := range items {
		fmt.Fprintf(b, "- %s\n", it)
	}
}
