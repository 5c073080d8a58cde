package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// table is a header and rows of text cells, rendered alike in Markdown and
// HTML.
type table struct {
	Header []string
	Rows   [][]string
}

// results is the section's main table: a row per architecture and setting.
func (s *section) results() table {
	t := table{Header: []string{"arch"}}
	t.Header = append(t.Header, s.ParamKeys...)
	t.Header = append(t.Header, "trials")
	for _, m := range Metrics {
		t.Header = append(t.Header, m.Label+" ("+m.Unit+")")
	}
	t.Header = append(t.Header, "server CPU (µs/req)", "client CPU (%)", "bound")
	for _, g := range s.Groups {
		row := []string{g.Arch}
		for _, k := range s.ParamKeys {
			v, ok := g.Params[k]
			if !ok {
				row = append(row, "")
				continue
			}
			row = append(row, FormatParam(v))
		}
		row = append(row, strconv.Itoa(len(g.Results)))
		for _, m := range Metrics {
			row = append(row, CICell(g.Values(m)))
		}
		perRequest, client := g.budgetValues()
		row = append(row, CICell(perRequest), CICell(client), BoundCell(g.Verdicts()))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// ratios is the paper-ratio table, or an empty table when the experiment
// file gives no ratios.
func (s *section) ratios() table {
	header, rows := RatioCells(s.Ratios)
	return table{Header: header, Rows: rows}
}

// RatioCells lays paper ratios out as a table: its header and a row of
// text cells per ratio.
func RatioCells(ratios []RatioRow) (header []string, rows [][]string) {
	header = []string{"ratio", "setting", "paper", "measured", "95% interval", "rounds", "verdict", "left out"}
	for _, r := range ratios {
		paper, measured, interval := "–", "not measured", "–"
		if r.HasPaper {
			paper = strconv.FormatFloat(r.Paper, 'f', 2, 64)
		}
		if r.HasMeasured {
			measured = strconv.FormatFloat(r.Measured, 'f', 2, 64)
			interval = "[" + formatBound(r.Low) + ", " + formatBound(r.High) + "]"
		}
		setting := r.Setting
		if setting == "" {
			setting = "all"
		}
		rows = append(rows, []string{r.Ratio, setting, paper, measured, interval, strconv.Itoa(r.Rounds),
			orDash(r.Verdict), strconv.Itoa(len(r.Left))})
	}
	return header, rows
}

// tableNote says how to read the tables.
const tableNote = "Each cell is the median of the trials ± the 95% confidence interval of the median " +
	"(golang.org/x/perf's benchmath, no distribution assumed; ±∞ with fewer than 6 trials, too few for one). " +
	"Absolute numbers depend on the machine; compare architectures by their ratios within one run. " +
	"Server CPU per request comes from the server's CPU cgroup; bound says what bounded each trial: " +
	"server (the server at 90% or more of its CPU budget, the client below 70% of its cores), " +
	"client (the client at 90% or more), network (the link at 90% or more of its rate) or undecided."

// ratioNote says how the paper ratios are measured and judged.
const ratioNote = "Measured ratios use server-bound trials only (the others measure the client or the link): " +
	"the median of the per-round ratios (each round ran every contender once) and the 95% confidence interval of that median. " +
	"A ratio holds when the interval lies within a tenth of the paper's either way (unless the experiment sets another tolerance), " +
	"does not hold when it lies wholly outside, and is undecided otherwise (an unbounded interval: fewer than 6 rounds)."

// syscalls is the system call table, or an empty table without counts.
func (s *section) syscalls() table {
	if len(s.Syscalls) == 0 {
		return table{}
	}
	header, rows := SyscallCells(s.Syscalls, s.Exp.Archs)
	return table{Header: header, Rows: rows}
}

// LeftOut lists, once each and sorted, the trials the section's ratios
// left out, with why.
func (s *section) LeftOut() []string {
	var out []string
	for _, r := range s.Ratios {
		for _, l := range r.Left {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// problems is the table of failed and skipped points.
func (s *section) problems() table {
	t := table{Header: []string{"point", "status", "reason"}}
	for _, p := range s.Problems {
		reason := p.Reason
		if reason == "" {
			reason = "(no reason recorded)"
		}
		t.Rows = append(t.Rows, []string{p.ID, p.Status, reason})
	}
	return t
}

// markdown renders the document as Markdown; plots are linked from plots/.
func (d *document) markdown() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", d.Title)
	for _, r := range d.Runs {
		if w := r.Warning(); w != "" {
			fmt.Fprintf(&b, "> **%s**\n\n", w)
		}
	}
	b.WriteString("Runs:\n\n")
	for _, r := range d.Runs {
		fmt.Fprintf(&b, "- `%s`: %s, topology %s, started %s, %d of %d points measured\n", r.Dir,
			r.Run.Experiment, orDash(r.Run.Topology), r.Run.StartedAt.UTC().Format("2006-01-02 15:04:05Z"), r.Measured, r.Total)
	}
	b.WriteString("\n" + tableNote + "\n")
	for _, s := range d.Sections {
		s.markdown(&b)
	}
	return []byte(b.String())
}

// markdown renders one experiment's section.
func (s *section) markdown(b *strings.Builder) {
	fmt.Fprintf(b, "\n## %s\n\n", s.Experiment)
	if s.Exp.Figure != "" {
		fmt.Fprintf(b, "Reproduces: %s.\n\n", s.Exp.Figure)
	}
	if s.Exp.Description != "" {
		fmt.Fprintf(b, "%s\n\n", strings.TrimSpace(s.Exp.Description))
	}
	if len(s.Groups) == 0 {
		b.WriteString("No point was measured.\n\n")
	} else {
		writeMarkdownTable(b, s.results())
		if n := latencyNote(s.Groups); n != "" {
			fmt.Fprintf(b, "\n%s\n", n)
		}
	}
	if len(s.Ratios) > 0 {
		fmt.Fprintf(b, "\n### Paper ratios (%s)\n\n", s.RatioMetric.Label)
		if s.Exp.Paper.Note != "" {
			fmt.Fprintf(b, "%s\n\n", strings.TrimSpace(s.Exp.Paper.Note))
		}
		b.WriteString(ratioNote + "\n\n")
		writeMarkdownTable(b, s.ratios())
		if left := s.LeftOut(); len(left) > 0 {
			b.WriteString("\nLeft out of the ratios:\n\n")
			for _, l := range left {
				fmt.Fprintf(b, "- %s\n", l)
			}
		}
	}
	if len(s.Syscalls) > 0 {
		b.WriteString("\n### System calls\n\n" + syscallNote + "\n\n")
		writeMarkdownTable(b, s.syscalls())
	}
	if len(s.Plots) > 0 {
		b.WriteString("\n### Plots\n\n")
		for _, p := range s.Plots {
			fmt.Fprintf(b, "![%s](plots/%s.svg)\n\n", p.Title, p.Name)
		}
	}
	if len(s.Problems) > 0 {
		b.WriteString("### Failed and skipped points\n\n")
		writeMarkdownTable(b, s.problems())
	}
	if len(s.Warnings) > 0 {
		b.WriteString("\n### Warnings\n\n")
		for _, w := range s.Warnings {
			fmt.Fprintf(b, "- %s\n", w)
		}
	}
}

// writeMarkdownTable writes t as a GitHub Markdown table.
func writeMarkdownTable(b *strings.Builder, t table) {
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + mdEscape(c) + " |")
		}
		b.WriteString("\n")
	}
	row(t.Header)
	b.WriteString("|" + strings.Repeat("---|", len(t.Header)) + "\n")
	for _, r := range t.Rows {
		row(r)
	}
}

// mdEscape keeps a cell's text from breaking its table row.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
