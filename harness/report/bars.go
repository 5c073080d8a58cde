package report

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// bar is one architecture's median of a metric in one setting and the 95%
// interval of that median (min..max where too few trials bound it).
type bar struct {
	arch           string
	median, lo, hi float64
}

// barOf summarises g's values of m; false when g has none.
func barOf(g *Group, m Metric) (bar, bool) {
	v := g.Values(m)
	if len(v) == 0 {
		return bar{}, false
	}
	s := Interval(v)
	b := bar{arch: g.Arch, median: s.Center, lo: s.Lo, hi: s.Hi}
	if math.IsInf(b.lo, 0) || math.IsNaN(b.lo) {
		b.lo = v[0]
	}
	if math.IsInf(b.hi, 0) || math.IsNaN(b.hi) {
		b.hi = v[len(v)-1]
	}
	return b, true
}

// rankedBars returns the bars of m of one setting's groups, largest first
// (smallest first for a metric where lower is better), and their order of
// architectures, which the setting's other bar plots follow.
func rankedBars(m Metric, groups []*Group) ([]bar, []string) {
	var bars []bar
	for _, g := range groups {
		if b, ok := barOf(g, m); ok {
			bars = append(bars, b)
		}
	}
	slices.SortStableFunc(bars, func(a, b bar) int {
		if m.LowerIsBetter {
			return cmp.Compare(a.median, b.median)
		}
		return cmp.Compare(b.median, a.median)
	})
	order := make([]string, len(bars))
	for i, b := range bars {
		order[i] = b.arch
	}
	return bars, order
}

// orderedBars returns the bars of m of one setting's groups in the order
// of the architectures order, then any others.
func orderedBars(m Metric, groups []*Group, order []string) []bar {
	var bars []bar
	for _, g := range groups {
		if b, ok := barOf(g, m); ok {
			bars = append(bars, b)
		}
	}
	rank := func(arch string) int {
		if i := slices.Index(order, arch); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(bars, func(a, b bar) int { return cmp.Compare(rank(a.arch), rank(b.arch)) })
	return bars
}

// barRow is the height of one bar's row, barWidth the bar's thickness.
const barRow, barWidth = vg.Length(17), vg.Length(11)

// logSpread is the spread (largest median over smallest) from which a
// lower-is-better metric's bars go on a log axis: forking's cost, 300
// times nginx's, would otherwise flatten every other bar to a sliver.
const logSpread = 30

// barFigure draws bars top to bottom as horizontal bars in their families'
// colours, each with its 95% interval and, at its end, its ratio to ref's
// bar, TechEmpower's way.
func barFigure(name, title string, m Metric, bars []bar, ref string) (*figure, error) {
	label := axisLabel(m)
	logX := m.LowerIsBetter && spread(bars) >= logSpread
	if logX {
		label = m.Label + " (" + m.Unit + ", log scale)"
	}
	p := newPlot(label, "", true, false)
	n := len(bars)
	names := make([]string, n)
	var whisk errXPoints
	for k, b := range bars {
		y := float64(n - 1 - k)
		names[n-1-k] = b.arch
		whisk.XYs = append(whisk.XYs, plotter.XY{X: b.median, Y: y})
		whisk.XErrors = append(whisk.XErrors, struct{ Low, High float64 }{b.median - b.lo, b.hi - b.median})
	}
	p.Add(hbars(bars))
	eb, err := plotter.NewXErrorBars(whisk)
	if err != nil {
		return nil, fmt.Errorf("bar plot %q: %w", title, err)
	}
	eb.LineStyle.Color = color.Gray{Y: 0x30}
	eb.LineStyle.Width = vg.Points(1)
	eb.CapWidth = barWidth * 0.6
	p.Add(eb)
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.X.Min = 0
	if logX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
		p.X.Min = math.Pow(10, math.Floor(math.Log10(minLo(bars))))
	}
	legend := append(familyLegend(bars), legendEntry{"95% interval", []plot.Thumbnailer{whiskerThumb{}}})
	f := &figure{name: name, title: title, plot: p, legend: legend, height: barRow*vg.Length(n) + 120}
	if err := f.labelBars(bars, ref); err != nil {
		return nil, fmt.Errorf("bar plot %q: %w", title, err)
	}
	return f, nil
}

// spread is the largest median of bars over the smallest.
func spread(bars []bar) float64 {
	lo, hi := math.Inf(1), 0.0
	for _, b := range bars {
		lo, hi = math.Min(lo, b.median), math.Max(hi, b.median)
	}
	return hi / lo
}

// minLo is the smallest low end of the bars' intervals that is positive.
func minLo(bars []bar) float64 {
	lo := math.Inf(1)
	for _, b := range bars {
		for _, v := range []float64{b.lo, b.median} {
			if v > 0 {
				lo = math.Min(lo, v)
			}
		}
	}
	return lo
}

// hbars draws horizontal bars from the x axis' minimum, which a log
// axis needs (gonum's bar charts start at 0), the top bar first.
type hbars []bar

// Plot draws the bars on the data canvas c.
func (h hbars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for k, b := range h {
		y := trY(float64(len(h) - 1 - k))
		r := vg.Rectangle{Min: vg.Point{X: c.Min.X, Y: y - barWidth/2}, Max: vg.Point{X: trX(b.median), Y: y + barWidth/2}}
		c.SetColor(FamilyColor(b.arch))
		c.Fill(r.Path())
	}
}

// DataRange spans the bars' medians and their rows.
func (h hbars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, b := range h {
		xmin, xmax = math.Min(xmin, b.median), math.Max(xmax, b.median)
	}
	return xmin, xmax, 0, float64(len(h) - 1)
}

// whiskerThumb is the legend's picture of an interval whisker.
type whiskerThumb struct{}

// Thumbnail draws a whisker with its caps across c.
func (whiskerThumb) Thumbnail(c *draw.Canvas) {
	y, h := c.Center().Y, barWidth*0.3
	sty := draw.LineStyle{Color: color.Gray{Y: 0x30}, Width: vg.Points(1)}
	c.StrokeLine2(sty, c.Min.X+2, y, c.Max.X-2, y)
	c.StrokeLine2(sty, c.Min.X+2, y-h, c.Min.X+2, y+h)
	c.StrokeLine2(sty, c.Max.X-2, y-h, c.Max.X-2, y+h)
}

// errXPoints is bar ends with their interval as X errors.
type errXPoints struct {
	plotter.XYs
	plotter.XErrors
}

// labelBars writes each bar's ratio to ref's past the end of its
// whisker, and stretches the x axis so that every label lies within the
// data area.
func (f *figure) labelBars(bars []bar, ref string) error {
	refMedian := math.NaN()
	for _, b := range bars {
		if b.arch == ref {
			refMedian = b.median
		}
	}
	style := textStyle(9)
	style.YAlign = draw.YCenter
	const pad = vg.Length(4)
	labels := plotter.XYLabels{}
	var widths []vg.Length
	for k, b := range bars {
		text := ratioLabel(b, ref, refMedian)
		labels.XYs = append(labels.XYs, plotter.XY{X: b.hi, Y: float64(len(bars) - 1 - k)})
		labels.Labels = append(labels.Labels, text)
		widths = append(widths, style.Width(text)+2*pad)
	}
	f.fitX(labels.XYs, widths)
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i] = style
	}
	l.Offset = vg.Point{X: pad}
	f.plot.Add(l)
	return nil
}

// fitX stretches the x axis so that past each of ends there is room for
// its width of text within the data area.
func (f *figure) fitX(ends plotter.XYs, widths []vg.Length) {
	p := f.plot
	for _, e := range ends {
		p.X.Max = math.Max(p.X.Max, e.X)
	}
	w, h := f.size()
	data := f.layout(draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: w, Y: h}}}).data.Size().X
	_, isLog := p.X.Scale.(plot.LogScale)
	max := p.X.Max
	for i, e := range ends {
		share := float64((data - widths[i]) / data)
		switch {
		case share <= 0:
		case isLog:
			max = math.Max(max, p.X.Min*math.Pow(e.X/p.X.Min, 1/share))
		default:
			max = math.Max(max, p.X.Min+(e.X-p.X.Min)/share)
		}
	}
	p.X.Max = max
}

// ratioLabel is b's label: its median over the reference's, "reference"
// on the reference's own bar, its median alone when the setting has no
// reference.
func ratioLabel(b bar, ref string, refMedian float64) string {
	switch {
	case b.arch == ref:
		return "reference"
	case math.IsNaN(refMedian) || refMedian == 0:
		return FormatValue(b.median)
	}
	return formatRatio(b.median/refMedian) + "× " + ref
}

// familyLegend has an entry per family among bars, in Family order, and
// one for the base contenders of a family.
func familyLegend(bars []bar) []legendEntry {
	var out []legendEntry
	for f := EventDriven; f <= LimitReference; f++ {
		for _, base := range []bool{false, true} {
			i := slices.IndexFunc(bars, func(b bar) bool {
				return FamilyOf(b.arch) == f && strings.HasSuffix(b.arch, BaseSuffix) == base
			})
			if i < 0 {
				continue
			}
			text := f.String()
			if base {
				text += " (" + BaseSuffix + " build)"
			}
			out = append(out, legendEntry{text, []plot.Thumbnailer{swatch{FamilyColor(bars[i].arch)}}})
		}
	}
	return out
}

// reference is the architecture a section's bars are compared with: nginx
// when the section has it, else the experiment's first architecture
// measured, else the first measured.
func (s *section) reference() string {
	has := func(arch string) bool {
		return slices.ContainsFunc(s.Groups, func(g *Group) bool { return g.Arch == arch })
	}
	if has("nginx") {
		return "nginx"
	}
	for _, a := range s.Exp.Archs {
		if has(a) {
			return a
		}
	}
	if len(s.Groups) == 0 {
		return ""
	}
	return s.Groups[0].Arch
}
