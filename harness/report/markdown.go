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
	t.Header = append(t.Header, "client CPU (%)", "bound")
	disk := slices.ContainsFunc(s.Groups, func(g *Group) bool { return len(g.diskInFlight()) > 0 })
	if disk {
		t.Header = append(t.Header, "disk reads in flight")
	}
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
		row = append(row, CICell(g.clientValues()), BoundCell(g.Verdicts()))
		if disk {
			row = append(row, CICell(g.diskInFlight()))
		}
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
		paper := "–"
		if r.HasPaper {
			paper = strconv.FormatFloat(r.Paper, 'f', 2, 64)
		}
		setting, measured := r.cells()
		rows = append(rows, append([]string{r.Ratio, setting, paper}, measured...))
	}
	return header, rows
}

// TargetCells lays targets out as a table: its header and a row of text
// cells per target and setting. The metric column is there when a target
// is of another metric than throughput.
func TargetCells(targets []TargetRow) (header []string, rows [][]string) {
	metric := slices.ContainsFunc(targets, func(r TargetRow) bool { return r.Metric.Name != Metrics[0].Name })
	header = []string{"ratio", "setting"}
	if metric {
		header = append(header, "metric")
	}
	header = append(header, "target", "measured", "95% interval", "rounds", "verdict", "left out")
	for _, r := range targets {
		setting, measured := r.cells()
		row := []string{r.Ratio, setting}
		if metric {
			row = append(row, r.Metric.Label+" ("+r.Metric.Unit+")")
		}
		rows = append(rows, append(append(row, r.Target.String()), measured...))
	}
	return header, rows
}

// cells are r's setting ("all" for none) and its measured cells: the
// ratio, its interval, the rounds, the verdict and how many trials were
// left out.
func (r RatioRow) cells() (setting string, measured []string) {
	ratio, interval := "not measured", "–"
	if r.HasMeasured {
		ratio = strconv.FormatFloat(r.Measured, 'f', 2, 64)
		interval = "[" + formatBound(r.Low) + ", " + formatBound(r.High) + "]"
	}
	setting = r.Setting
	if setting == "" {
		setting = "all"
	}
	return setting, []string{ratio, interval, strconv.Itoa(r.Rounds), orDash(r.Verdict), strconv.Itoa(len(r.Left))}
}

// tableNote says how to read the tables.
const tableNote = "Each cell is the median of the trials ± the 95% confidence interval of the median " +
	"(golang.org/x/perf's benchmath, no distribution assumed; ±∞ with fewer than 6 trials, too few for one). " +
	"Absolute numbers depend on the machine; compare architectures by their ratios within one run. " +
	"Server CPU per request comes from the server's CPU cgroup; bound says what bounded each trial: " +
	"server (the server at 90% or more of its CPU budget, the client below 70% of its cores), " +
	"disk (the slow device of a disk-bound experiment busy 75% of the trial or more, the server below 90% of its budget and the client below 70%), " +
	"client (the client at 90% or more), network (the link at 90% or more of its rate) or undecided."

// ratioNote says how the paper ratios are measured and judged.
const ratioNote = "Measured ratios use server-bound trials only, and on a slow device disk-bound ones (the others measure the client or the link): " +
	"the median of the per-round ratios (each round ran every contender once) and the 95% confidence interval of that median. " +
	"A ratio holds when the interval lies within a tenth of the paper's either way (unless the experiment sets another tolerance), " +
	"does not hold when it lies wholly outside, and is undecided otherwise (an unbounded interval: fewer than 6 rounds)."

// targetNote says how the targets are measured and judged.
const targetNote = "Targets are flashbench's own goals, one-sided bounds on ratios, measured as the paper ratios are " +
	"(server- and disk-bound trials only, the median of the per-round ratios, the 95% confidence interval of that median): " +
	"a target is met when the whole interval lies at or past it (its low end at or above a minimum, its high end at or below a maximum), " +
	"not met when the whole interval falls short of it, and undecided otherwise " +
	"(the interval straddles it, is unbounded with fewer than 6 rounds, or nothing was measured)."

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
		out = appendLeft(out, r)
	}
	slices.Sort(out)
	return out
}

// TargetsLeftOut lists, once each and sorted, the trials the section's
// targets left out, with why.
func (s *section) TargetsLeftOut() []string {
	var out []string
	for _, r := range s.Targets {
		out = appendLeft(out, r.RatioRow)
	}
	slices.Sort(out)
	return out
}

// appendLeft appends the trials r left out that out lacks.
func appendLeft(out []string, r RatioRow) []string {
	for _, l := range r.Left {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// targets is the targets table, or an empty table when the experiment
// file sets none.
func (s *section) targets() table {
	header, rows := TargetCells(s.Targets)
	return table{Header: header, Rows: rows}
}

// TargetNotes are the notes of the section's targets, each once: "sped/nginx
// >= 1.15: ...".
func (s *section) TargetNotes() []string {
	var out []string
	for _, t := range s.Exp.Targets {
		if n := strings.TrimSpace(t.Note); n != "" && !slices.Contains(out, t.Ratio+" "+t.String()+": "+n) {
			out = append(out, t.Ratio+" "+t.String()+": "+n)
		}
	}
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
	if t := d.Seed; t != nil {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", seedTitle, seedNote)
		writeMarkdownTable(&b, t.table())
		if d.SeedMissing != "" {
			fmt.Fprintf(&b, "\n%s\n", d.SeedMissing)
		}
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
		for _, n := range s.ArchNotes() {
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
	if len(s.Targets) > 0 {
		s.markdownTargets(b)
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

// markdownTargets renders the section's targets.
func (s *section) markdownTargets(b *strings.Builder) {
	b.WriteString("\n### Targets\n\n" + targetNote + "\n\n")
	writeMarkdownTable(b, s.targets())
	if notes := s.TargetNotes(); len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(b, "- %s\n", n)
		}
	}
	if left := s.TargetsLeftOut(); len(left) > 0 {
		b.WriteString("\nLeft out of the targets:\n\n")
		for _, l := range left {
			fmt.Fprintf(b, "- %s\n", l)
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
