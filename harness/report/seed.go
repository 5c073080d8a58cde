package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// The seed paper's table (HotOS 1997, section 2): connections per second
// of Flash, Flash-Lite, Harvest and thttpd on 500 B and 50 KB files, and
// CGI over IO-Lite "over twice as fast" as over pipes. flashbench measures
// it with two experiments: hotos97 (the two file sizes) and hotos97-cgi
// (the CGI row), which `make bench` runs together.
const (
	// SeedExperiment is the experiment of the seed table's file columns.
	SeedExperiment = "hotos97"
	// SeedCGIExperiment is the experiment of its CGI column.
	SeedCGIExperiment = "hotos97-cgi"
	// seedReference is the architecture every ratio of the table is over:
	// Flash.
	seedReference = "amped"
)

// seedColumn is one workload of the seed table: an experiment, and the
// setting of its parameters ("" when it has one setting only).
type seedColumn struct {
	Label, Experiment, Setting string
}

var seedColumns = []seedColumn{
	{"500 B", SeedExperiment, "file_size_bytes=500"},
	{"50 KB", SeedExperiment, "file_size_bytes=51200"},
	{"CGI 50 KB", SeedCGIExperiment, ""},
}

// seedRole is one server of the paper's table, with the architectures that
// stand in for it here, its connections/s in the paper (0: not reported)
// and its ratio to Flash in the paper by column (0: none).
type seedRole struct {
	Name  string
	Archs []string
	Paper [3]float64
	Ratio [3]float64
}

// seedRoles are the paper's servers, in its order, then the model the
// paper's table left out (a process per connection). The ratios come from
// the paper's figures; its CGI claim is a ratio only.
var seedRoles = []seedRole{
	{Name: "Flash", Archs: []string{"amped"}, Paper: [3]float64{670, 211, 0}},
	{Name: "Flash-Lite", Archs: []string{"flashlite"}, Paper: [3]float64{0, 276, 0}, Ratio: [3]float64{0, 276.0 / 211, 2.0}},
	{Name: "Harvest", Paper: [3]float64{391, 87, 0}, Ratio: [3]float64{391.0 / 670, 87.0 / 211, 0}},
	{Name: "thttpd (SPED)", Archs: []string{"sped-nocache", "webfsd"}, Paper: [3]float64{214, 107, 0}, Ratio: [3]float64{214.0 / 670, 107.0 / 211, 0}},
	{Name: "a process per connection", Archs: []string{"forking", "mini_httpd"}},
}

// SeedTable is the seed paper's table as measured: a row per server of the
// paper and architecture standing in for it, then every other
// architecture measured, and a column per workload.
type SeedTable struct {
	Columns []string
	Rows    []SeedRow
	// Tolerance is the band of the ratios' verdicts.
	Tolerance float64
}

// SeedRow is one server's line of the seed table.
type SeedRow struct {
	// Role is the paper's server ("Flash"); "" for an architecture the
	// paper did not measure.
	Role string
	// Arch is the architecture measured for it; "" when none is (Harvest
	// has no living relative).
	Arch  string
	Cells []SeedCell
}

// SeedCell is one server at one workload: connections/s measured and in
// the paper, and the ratio to Flash measured and in the paper.
type SeedCell struct {
	// Rate summarises the trials' connections/s ("12653 ±22%"), "–" when
	// none was measured; Bound their bound verdicts.
	Rate, Bound string
	// Paper is the paper's connections/s, 0 when it gives none.
	Paper float64
	// Ratio is the row's connections/s over Flash's, per round, with the
	// paper's ratio and the verdict; Ratio.Rounds is 0 and HasMeasured
	// false when it was not measured.
	Ratio RatioRow
}

// seedTable builds the seed table from an archive's groups, or returns nil
// when the archive holds neither seed experiment.
func seedTable(groups []*Group, archs []string, tolerance float64) *SeedTable {
	if !slices.ContainsFunc(groups, func(g *Group) bool {
		return g.Experiment == SeedExperiment || g.Experiment == SeedCGIExperiment
	}) {
		return nil
	}
	if tolerance == 0 {
		tolerance = RatioTolerance
	}
	m := Metrics[1] // connections_per_s: the paper's unit
	t := &SeedTable{Tolerance: tolerance}
	sd := map[string]map[string]*side{}
	byCol := make([]map[string]*Group, len(seedColumns))
	for i, c := range seedColumns {
		t.Columns = append(t.Columns, c.Label)
		byCol[i] = map[string]*Group{}
		var col []*Group
		for _, g := range groups {
			if g.Experiment == c.Experiment && (c.Setting == "" || g.Key == c.Setting) {
				byCol[i][g.Arch] = g
				col = append(col, g)
			}
		}
		sd[c.Label] = sides(col, m)
	}
	cell := func(i int, arch string, paper, ratio float64) SeedCell {
		c := SeedCell{Rate: "–", Bound: "–", Paper: paper}
		c.Ratio = RatioRow{Ratio: arch + "/" + seedReference, Paper: ratio, HasPaper: ratio > 0}
		g := byCol[i][arch]
		if g != nil {
			c.Rate, c.Bound = CICell(g.Values(m)), BoundCell(g.Verdicts())
		}
		if g != nil && arch != seedReference {
			col := sd[seedColumns[i].Label]
			num, den := col[arch+"\x00"+keyOf(g)], col[seedReference+"\x00"+keyOf(byCol[i][seedReference])]
			c.Ratio.measure(num, den, tolerance)
		}
		return c
	}
	listed := map[string]bool{}
	for _, role := range seedRoles {
		archs := role.Archs
		if len(archs) == 0 {
			archs = []string{""}
		}
		for _, arch := range archs {
			listed[arch] = true
			row := SeedRow{Role: role.Name, Arch: arch}
			for i := range seedColumns {
				row.Cells = append(row.Cells, cell(i, arch, role.Paper[i], role.Ratio[i]))
			}
			t.Rows = append(t.Rows, row)
		}
	}
	var others []string
	for _, g := range groups {
		if g.Experiment == SeedExperiment && !listed[g.Arch] {
			listed[g.Arch] = true
			others = append(others, g.Arch)
		}
	}
	slices.SortStableFunc(others, func(a, b string) int { return ArchRank(archs, a) - ArchRank(archs, b) })
	for _, arch := range others {
		row := SeedRow{Arch: arch}
		for i := range seedColumns {
			row.Cells = append(row.Cells, cell(i, arch, 0, 0))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// keyOf returns g's setting key, "" for nil.
func keyOf(g *Group) string {
	if g == nil {
		return ""
	}
	return g.Key
}

// seedNote explains the seed table under its title.
const seedNote = "The seed paper's Table 1 (HotOS 1997: a DEC Alpha server, 1997) beside the same workloads measured here: " +
	"connections/s, one request per connection, cached files. Each measured cell is the median of the trials ± its 95% interval and what bound them; " +
	"÷ Flash is the server's connections/s over Flash's (amped's), the median of the per-round ratios of server-bound trials with its 95% interval, " +
	"against the paper's ratio: it holds within the tolerance either way, does not hold wholly outside it, and is undecided otherwise. " +
	"thttpd and Harvest are gone: sped without its caches and webfs stand in for thttpd; Harvest has no living relative here."

// rateCell formats a cell's connections/s, measured and in the paper:
// "12653 ±22% (server); paper 670".
func (c SeedCell) rateCell() string {
	out := "–"
	if c.Rate != "–" {
		out = c.Rate + " (" + c.Bound + ")"
	}
	if c.Paper > 0 {
		out += "; paper " + strconv.FormatFloat(c.Paper, 'f', -1, 64)
	}
	return out
}

// ratioCell formats the ratio to Flash, measured with its interval and in
// the paper with the verdict: "0.37 [0.33, 0.51]; paper 0.32: holds";
// "reference" for Flash itself.
func (c SeedCell) ratioCell(arch string) string {
	out := c.ratioText(arch)
	if c.Ratio.HasPaper {
		out += "; paper " + formatRatio(c.Ratio.Paper)
		if c.Ratio.Verdict != "" {
			out += ": " + c.Ratio.Verdict
		}
	}
	return out
}

// roleCell names a row's server: "Flash", or "–" for an architecture
// outside the paper.
func (r SeedRow) roleCell() string {
	if r.Role == "" {
		return "–"
	}
	return r.Role
}

// archCell names the row's architecture, or "none" when none stands in.
func (r SeedRow) archCell() string {
	if r.Arch == "" {
		return "none"
	}
	return r.Arch
}

// header is the seed table's header row: server, measured by, then for
// each workload its connections/s and its ratio to Flash.
func (t *SeedTable) header() []string {
	h := []string{"server (paper)", "measured by"}
	for _, c := range t.Columns {
		h = append(h, c+": conn/s (bound)", c+": ÷ Flash [95%]")
	}
	return h
}

// rows returns the table's cells as text.
func (t *SeedTable) rows() [][]string {
	var out [][]string
	for _, r := range t.Rows {
		row := []string{r.roleCell(), r.archCell()}
		for _, c := range r.Cells {
			row = append(row, c.rateCell(), c.ratioCell(r.Arch))
		}
		out = append(out, row)
	}
	return out
}

// table returns the seed table as a report table.
func (t *SeedTable) table() table { return table{Header: t.header(), Rows: t.rows()} }

// SeedHTMLCell is one cell of the seed table on the HTML page: the
// measured figure, a second line with the bound or the paper's figure and
// verdict, and a class that colours the verdict.
type SeedHTMLCell struct {
	Main, Sub, Class string
}

// HTMLRows returns the seed table's cells for the page: two lines each,
// so the table fits the page's width.
func (t *SeedTable) HTMLRows() [][]SeedHTMLCell {
	var out [][]SeedHTMLCell
	for _, r := range t.Rows {
		row := []SeedHTMLCell{{Main: r.roleCell()}, {Main: r.archCell()}}
		for _, c := range r.Cells {
			rate := SeedHTMLCell{Main: c.Rate}
			var sub []string
			if c.Rate != "–" {
				sub = append(sub, c.Bound)
			}
			if c.Paper > 0 {
				sub = append(sub, "paper "+strconv.FormatFloat(c.Paper, 'f', -1, 64))
			}
			rate.Sub = strings.Join(sub, " · ")
			ratio := SeedHTMLCell{Main: c.ratioText(r.Arch)}
			if c.Ratio.HasPaper {
				ratio.Sub = "paper " + formatRatio(c.Ratio.Paper)
				if v := c.Ratio.Verdict; v != "" {
					ratio.Sub += ": " + v
					ratio.Class = map[string]string{RatioHolds: "holds", RatioDoesNotHold: "fails", RatioUndecided: "undecided"}[v]
				}
			}
			row = append(row, rate, ratio)
		}
		out = append(out, row)
	}
	return out
}

// seedTitle heads the seed table.
const seedTitle = "HotOS 1997, Table 1, as measured here"

// seedMissing lists the seed experiments of which an archive has no
// measured point, for a line under the table ("" when it has both).
func seedMissing(groups []*Group) string {
	var missing []string
	for _, e := range []string{SeedExperiment, SeedCGIExperiment} {
		if !slices.ContainsFunc(groups, func(g *Group) bool { return g.Experiment == e }) {
			missing = append(missing, e)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("No measured point of %s in these runs: its columns show – (`make bench` runs hotos97 and hotos97-cgi).", strings.Join(missing, " or "))
}

// seedBlocks split the seed table's workloads for a terminal: the two file
// sizes side by side, then the CGI column.
var seedBlocks = [][]int{{0, 1}, {2}}

// text renders the seed table for a terminal, narrower than the
// report's: medians without their intervals (the ratios carry theirs), a
// block per group of workloads, each listing the rows it has a figure for.
func (t *SeedTable) text(w io.Writer) error {
	fmt.Fprintf(w, "%s (connections/s; ÷ Flash: the median of the per-round ratios to amped [95%% interval]; paper: the paper's ratio)\n", seedTitle)
	for _, block := range seedBlocks {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		h := []string{"server", "measured by"}
		for _, i := range block {
			h = append(h, t.Columns[i], "÷ Flash [95%]", "paper", "verdict")
		}
		fmt.Fprintln(tw, "\n"+strings.Join(append(h, "bound"), "\t"))
		for _, r := range t.Rows {
			line, bounds, any := []string{r.roleCell(), r.archCell()}, []string{}, false
			for _, i := range block {
				c := r.Cells[i]
				any = any || c.Rate != "–" || c.Ratio.HasPaper || c.Paper > 0
				line = append(line, c.median(), c.ratioText(r.Arch), c.paperRatioText(), orDash(c.Ratio.Verdict))
				if c.Bound != "–" && !slices.Contains(bounds, c.Bound) {
					bounds = append(bounds, c.Bound)
				}
			}
			if any {
				fmt.Fprintln(tw, strings.Join(append(line, orDash(strings.Join(bounds, "; "))), "\t"))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// median is a cell's measured median, with the paper's figure after it:
// "12653 (670)".
func (c SeedCell) median() string {
	m, _, _ := strings.Cut(c.Rate, " ")
	if c.Paper > 0 {
		m += " (" + strconv.FormatFloat(c.Paper, 'f', -1, 64) + ")"
	}
	return m
}

// ratioText is the measured ratio to Flash and its interval, for text.
func (c SeedCell) ratioText(arch string) string {
	switch {
	case arch == seedReference && c.Rate != "–":
		return "reference"
	case !c.Ratio.HasMeasured:
		return "–"
	}
	return fmt.Sprintf("%s [%s, %s]", formatRatio(c.Ratio.Measured), formatRatio(c.Ratio.Low), formatRatio(c.Ratio.High))
}

// paperRatioText is the paper's ratio to Flash, "–" for none.
func (c SeedCell) paperRatioText() string {
	if !c.Ratio.HasPaper {
		return "–"
	}
	return formatRatio(c.Ratio.Paper)
}

// WriteSeedTable writes the seed paper's table as measured by the runs in
// runDirs (hotos97 and hotos97-cgi) to w, for a terminal; it writes nothing
// when the runs hold neither experiment.
func WriteSeedTable(w io.Writer, runDirs ...string) error {
	a, err := Load(runDirs...)
	if err != nil {
		return fmt.Errorf("seed table: %w", err)
	}
	d, err := build(a)
	if err != nil {
		return fmt.Errorf("seed table: %w", err)
	}
	if d.Seed == nil {
		return nil
	}
	if err := d.Seed.text(w); err != nil {
		return fmt.Errorf("seed table: %w", err)
	}
	if d.SeedMissing != "" {
		fmt.Fprintln(w, d.SeedMissing)
	}
	return nil
}
