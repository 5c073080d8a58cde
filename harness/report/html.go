package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// page is the HTML report: one file, plots inlined as SVG, styles inline,
// no script and no external URL, so it opens anywhere, offline, as is.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"svg":         inlineSVG,
	"time":        func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"dash":        orDash,
	"tableNote":   func() string { return tableNote },
	"ratioNote":   func() string { return ratioNote },
	"targetNote":  func() string { return targetNote },
	"syscallNote": func() string { return syscallNote },
	"seedTitle":   func() string { return seedTitle },
	"seedNote":    func() string { return seedNote },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 15px/1.45 system-ui, "DejaVu Sans", sans-serif; color: #1d2327; margin: 0 auto; padding: 1.5em 2em; max-width: 1500px; }
h1 { font-size: 1.6em; margin-top: 0; }
h2 { border-bottom: 2px solid #d0d7de; padding-bottom: .2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
.warning { background: #fff4e5; border-left: 4px solid #e8590c; padding: .5em 1em; margin: .5em 0; font-weight: 600; }
.tables { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }
.tables > div, .numbers { min-width: 0; max-width: 100%; }
.numbers { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; text-align: left; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; min-width: 3.5em; }
.numbers td, .numbers th { text-align: right; }
th { background: #f3f5f7; }
.numbers td:first-child, .numbers th:first-child { text-align: left; }
tbody tr:nth-child(even) { background: #fafbfc; }
.note { color: #57606a; max-width: 40em; font-size: .9em; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 1.2em; }
figure { margin: 0; border: 1px solid #d0d7de; padding: .5em; background: #fff; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: .85em; color: #57606a; text-align: center; }
ul.runs code { font-size: .9em; }
.seed td { vertical-align: top; }
.seed table { font-size: .85em; }
.seed td:first-child { white-space: normal; min-width: 7em; }
.seed td small { color: #57606a; }
.seed td:nth-child(2) { text-align: left; }
.seed .holds small { color: #1a7f37; font-weight: 600; }
.seed .fails small { color: #cf222e; font-weight: 600; }
.seed .undecided small { color: #9a6700; font-weight: 600; }
li, p { overflow-wrap: anywhere; }
@media print {
body { font-size: 11px; max-width: none; padding: 0; }
h2, h3 { break-after: avoid; }
.numbers { overflow: visible; }
table { font-size: .8em; }
th, td { padding: .15em .35em; }
td { white-space: normal; }
tr { break-inside: avoid; }
.plots { display: block; }
figure { margin-bottom: 1em; break-inside: avoid; }
}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Runs}}{{with .Warning}}<p class="warning">{{.}}</p>
{{end}}{{end}}<ul class="runs">
{{range .Runs}}<li><code>{{.Dir}}</code>: {{.Run.Experiment}}, topology {{dash .Run.Topology}}, started {{time .Run.StartedAt}}, {{.Measured}} of {{.Total}} points measured</li>
{{end}}</ul>
{{with .Seed}}<section id="seed">
<h2>{{seedTitle}}</h2>
<p class="note">{{seedNote}}</p>
<div class="numbers seed"><table>
<thead><tr><th rowspan="2">server (paper)</th><th rowspan="2">measured by</th>{{range .Columns}}<th colspan="2">{{.}}</th>{{end}}</tr>
<tr>{{range .Columns}}<th>conn/s</th><th>÷ Flash [95%]</th>{{end}}</tr></thead>
<tbody>
{{range .HTMLRows}}<tr>{{range .}}<td{{with .Class}} class="{{.}}"{{end}}>{{.Main}}{{with .Sub}}<br><small>{{.}}</small>{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{with $.SeedMissing}}<p class="note">{{.}}</p>{{end}}
</section>
{{end}}<p class="note">{{tableNote}}</p>
{{range .Sections}}<section id="{{.Experiment}}">
<h2>{{.Experiment}}</h2>
{{with .Exp.Figure}}<p>Reproduces: {{.}}.</p>{{end}}
{{with .Exp.Description}}<p class="note">{{.}}</p>{{end}}
<div class="tables">
<div class="numbers">{{if .Groups}}{{template "table" .Results}}{{with .LatencyNote}}<p class="note">{{.}}</p>{{end}}{{range .ArchNotes}}<p class="note">{{.}}</p>{{end}}{{else}}<p>No point was measured.</p>{{end}}</div>
{{if .Ratios}}<div><h3>Paper ratios ({{.RatioMetric.Label}})</h3>
<p class="note">{{ratioNote}}</p>
{{template "table" .RatioTable}}
{{with .Exp.Paper.Note}}<p class="note">{{.}}</p>{{end}}
{{with .LeftOut}}<p>Left out of the ratios:</p>
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}</div>{{end}}
{{if .Targets}}<div><h3>Targets</h3>
<p class="note">{{targetNote}}</p>
{{template "table" .TargetTable}}
{{with .TargetNotes}}<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{with .TargetsLeftOut}}<p>Left out of the targets:</p>
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}</div>{{end}}
</div>
{{if .Syscalls}}<h3>System calls</h3>
<p class="note">{{syscallNote}}</p>
<div class="numbers">{{template "table" .SyscallTable}}</div>{{end}}
{{if .Plots}}<h3>Plots</h3>
<div class="plots">
{{range .Plots}}<figure id="plot-{{.Name}}">{{svg .SVG}}<figcaption>{{.Title}}</figcaption></figure>
{{end}}</div>{{end}}
{{if .Problems}}<h3>Failed and skipped points</h3>
{{template "table" .ProblemTable}}{{end}}
{{if .Warnings}}<h3>Warnings</h3>
<ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
</section>
{{end}}</body>
</html>
{{define "table"}}<table>
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{end}}`))

// Results is the section's main table, for the page template.
func (s *section) Results() table { return s.results() }

// RatioTable is the section's paper-ratio table, for the page template.
func (s *section) RatioTable() table { return s.ratios() }

// TargetTable is the section's targets table, for the page template.
func (s *section) TargetTable() table { return s.targets() }

// SyscallTable is the section's system call table, for the page template.
func (s *section) SyscallTable() table { return s.syscalls() }

// LatencyNote says how the budget stretches latency, for the page template.
func (s *section) LatencyNote() string { return latencyNote(s.Groups) }

// ProblemTable is the section's failed and skipped points, for the page template.
func (s *section) ProblemTable() table { return s.problems() }

// html renders the document as one self-contained HTML page.
func (d *document) html() ([]byte, error) {
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	return b.Bytes(), nil
}

// inlineSVG makes a standalone SVG document an element of the page: the
// XML declaration goes, the rest is markup flashbench drew itself.
func inlineSVG(b []byte) template.HTML {
	s := string(b)
	if strings.HasPrefix(s, "<?xml") {
		if i := strings.Index(s, "?>"); i >= 0 {
			s = s[i+2:]
		}
	}
	return template.HTML(strings.TrimSpace(s))
}
