package report

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"strings"
)

// indexNote says how to read the index's columns.
const indexNote = "The headline is the run's first measured target, in its report's order, else its first measured paper ratio, " +
	"as the report measures it (server-bound trials, the median of the per-round ratios, " +
	"its 95% interval) with its verdict, and what it was read against; the report has every ratio. " +
	"Commit and tree come from run.json's provenance (from the first result document for runs archived before run.json had one): " +
	"dirty when the programs did not all come from one commit without uncommitted changes."

// indexHeader is the index table's header.
var indexHeader = []string{"started (UTC)", "experiment", "commit", "tree", "points", "headline", "report"}

// indexSummary is the line above the index table: how many runs of how
// many experiments, and how many did not finish or do not read.
func indexSummary(runs []*indexRun) string {
	var experiments []string
	unfinished, unreadable := 0, 0
	for _, r := range runs {
		if !slices.Contains(experiments, r.Experiment) {
			experiments = append(experiments, r.Experiment)
		}
		if r.Status() != "" {
			unfinished++
		}
		if r.Run == nil {
			unreadable++
		}
	}
	s := fmt.Sprintf("%d archived runs of %d experiments, newest first", len(runs), len(experiments))
	if unfinished > 0 {
		s += fmt.Sprintf("; %d interrupted or unfinished", unfinished)
	}
	if unreadable > 0 {
		s += fmt.Sprintf("; %d whose run.json does not read", unreadable)
	}
	return s + "."
}

// PointsCell is the points column: "10 of 12", with the run's status
// when it did not finish.
func (ir *indexRun) PointsCell() string {
	if s := ir.Status(); s != "" {
		return ir.Points() + ", " + s
	}
	return ir.Points()
}

// HeadlineCell is the headline column as text: the headline, why it
// could not be measured, or "–".
func (ir *indexRun) HeadlineCell() string {
	switch {
	case ir.Err != "":
		return ir.Err
	case ir.HeadlineErr != "":
		return "– (" + ir.HeadlineErr + ")"
	case ir.Headline == nil:
		return "–"
	}
	return ir.Headline.Text()
}

// LinkText names the link's target: "report", or "run" for a run
// directory without one.
func (ir *indexRun) LinkText(md bool) string {
	if strings.HasSuffix(ir.Link(md), "/") {
		return "run"
	}
	return "report"
}

// indexMarkdown renders the index as Markdown, for readers on a git
// forge: its links go to each run's report.md.
func indexMarkdown(runs []*indexRun) []byte {
	var b strings.Builder
	b.WriteString("# flashbench: archived runs\n\n")
	b.WriteString(indexSummary(runs) + " " + indexNote + "\n\n")
	t := table{Header: indexHeader}
	for _, r := range runs {
		link := fmt.Sprintf("[%s](%s)", r.LinkText(true), r.Link(true))
		if r.Run == nil {
			t.Rows = append(t.Rows, []string{r.Date(), r.Experiment, "–", "–", "–", r.HeadlineCell(), link})
		} else {
			t.Rows = append(t.Rows, []string{r.Date(), r.Experiment, r.Commit(), r.Tree(), r.PointsCell(), r.HeadlineCell(), link})
		}
	}
	writeMarkdownTable(&b, t)
	return []byte(b.String())
}

// indexPage is the HTML index: one file, styles inline, no script and
// no external URL, as the reports are.
var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flashbench: archived runs</title>
<style>
body { font: 15px/1.45 system-ui, "DejaVu Sans", sans-serif; color: #1d2327; margin: 0 auto; padding: 1.5em 2em; max-width: 1500px; }
h1 { font-size: 1.6em; margin-top: 0; }
table { border-collapse: collapse; font-size: .9em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; text-align: left; white-space: nowrap; }
th { background: #f3f5f7; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafbfc; }
tbody tr:hover { background: #eef4fb; }
.note { color: #57606a; max-width: 60em; font-size: .9em; }
.good { color: #1a7f37; font-weight: 600; }
.bad { color: #cf222e; font-weight: 600; }
.open { color: #9a6700; font-weight: 600; }
.warn { background: #fff4e5; }
.error { color: #cf222e; white-space: normal; }
.dim { color: #57606a; }
code { font-size: .95em; }
</style>
</head>
<body>
<h1>flashbench: archived runs</h1>
<p>{{.Summary}}</p>
<p class="note">{{.Note}}</p>
<table>
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Runs}}<tr>
<td>{{.Date}}</td><td>{{.Experiment}}</td>{{if .Run}}<td><code>{{.Commit}}</code></td><td{{if eq .Tree "dirty"}} class="bad"{{end}}>{{.Tree}}</td><td{{if .Status}} class="warn"{{end}}>{{.PointsCell}}</td>
<td>{{with .Headline}}{{.Name}} {{.Value}}{{if .Verdict}} <span class="{{.VerdictClass}}">{{.Verdict}}</span>{{end}} <span class="dim">{{.Note}}</span>{{else}}{{.HeadlineCell}}{{end}}</td>{{else}}<td>–</td><td>–</td><td>–</td>
<td class="error">{{.Err}}</td>{{end}}
<td><a href="{{.Link false}}">{{.LinkText false}}</a></td>
</tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

// indexHTML renders the index as one self-contained HTML page.
func indexHTML(runs []*indexRun) ([]byte, error) {
	var b bytes.Buffer
	data := struct {
		Summary, Note string
		Header        []string
		Runs          []*indexRun
	}{indexSummary(runs), indexNote, indexHeader, runs}
	if err := indexPage.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	return b.Bytes(), nil
}
