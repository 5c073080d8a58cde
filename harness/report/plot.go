package report

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"flashbench/results"
)

// Plot is one rendered plot: Name is its file name in plots/ without the
// extension.
type Plot struct {
	Name, Title string
	SVG, PNG    []byte
}

const plotWidth, plotHeight = 7 * vg.Inch, 4.2 * vg.Inch

// render draws p as SVG and PNG on a white page with a margin, as gonum's
// own layout lets the last tick label touch the right edge.
func render(p *plot.Plot, name string) (Plot, error) {
	out := Plot{Name: name, Title: p.Title.Text}
	for _, f := range []struct {
		format string
		dst    *[]byte
	}{{"svg", &out.SVG}, {"png", &out.PNG}} {
		c, err := draw.NewFormattedCanvas(plotWidth, plotHeight, f.format)
		if err != nil {
			return Plot{}, fmt.Errorf("plot %s: %w", name, err)
		}
		dc := draw.New(c)
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		p.Draw(draw.Crop(dc, 4, -22, 4, -6))
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			return Plot{}, fmt.Errorf("plot %s: render %s: %w", name, f.format, err)
		}
		*f.dst = b.Bytes()
	}
	return out, nil
}

// newPlot returns a plot with flashbench's common look.
func newPlot(title, xLabel, yLabel string, verticalGrid bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 0xe4}
	if !verticalGrid {
		grid.Vertical.Color = nil
	}
	grid.Horizontal.Color = color.Gray{Y: 0xe4}
	p.Add(grid)
	p.Y.Tick.Marker = plainTicks{}
	p.Legend.Top = true
	return p
}

// errPoints is medians with their min..max spread as Y errors.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// series is one line of a sweep plot: one architecture (and setting of
// the parameters that are not on the x axis).
type series struct {
	label  string
	groups []*Group
}

// sweepPlot draws m's median against the numeric parameter param, a line per
// architecture with min..max error bars.
func sweepPlot(title, param string, m Metric, groups []*Group, others []string) (*plot.Plot, error) {
	p := newPlot(title, paramLabel(param), m.Label+" ("+m.Unit+")", true)
	if lo, hi := xRange(param, groups); lo > 0 && hi/lo >= 50 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		if strings.HasSuffix(param, "_bytes") {
			p.X.Tick.Marker = sizeTicks{}
		}
	}
	rising := 0
	for i, s := range splitSeries(groups, others) {
		slices.SortFunc(s.groups, func(a, b *Group) int {
			x, _ := Number(a.Params[param])
			y, _ := Number(b.Params[param])
			return cmp.Compare(x, y)
		})
		pts := errPoints{}
		for _, g := range s.groups {
			x, _ := Number(g.Params[param])
			st := Summarize(g.Values(m))
			pts.XYs = append(pts.XYs, plotter.XY{X: x, Y: st.Median})
			pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{st.Median - st.Min, st.Max - st.Median})
		}
		if len(pts.XYs) > 1 && pts.XYs[len(pts.XYs)-1].Y > pts.XYs[0].Y {
			rising++
		} else {
			rising--
		}
		line, points, err := plotter.NewLinePoints(pts.XYs)
		if err != nil {
			return nil, fmt.Errorf("sweep plot %q: %w", title, err)
		}
		bars, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, fmt.Errorf("sweep plot %q: %w", title, err)
		}
		c := Color(i)
		line.Color, points.Color, bars.Color = c, c, c
		line.Width = vg.Points(1.5)
		points.Shape = plotutil.Shape(i)
		p.Add(line, points, bars)
		p.Legend.Add(s.label, line, points)
	}
	p.Legend.Left = rising > 0
	p.Y.Min = math.Min(0, p.Y.Min)
	return p, nil
}

// xRange returns the smallest and largest value of param.
func xRange(param string, groups []*Group) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, g := range groups {
		x, _ := Number(g.Params[param])
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// palette tells apart the up to 16 architectures one experiment compares
// (hotos97 has 14): Tableau's ten, then darker ones.
var palette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
	{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff},
	{0x9c, 0x75, 0x5f, 0xff}, {0xba, 0xb0, 0xac, 0xff}, {0x1f, 0x3b, 0x73, 0xff}, {0x8b, 0x2d, 0x0f, 0xff},
	{0x2f, 0x4f, 0x4f, 0xff}, {0x6a, 0x1b, 0x9a, 0xff}, {0x1b, 0x5e, 0x20, 0xff}, {0x21, 0x21, 0x21, 0xff},
}

// Color is the colour of the i-th architecture of a plot.
func Color(i int) color.Color { return palette[i%len(palette)] }

// splitSeries splits groups into one series per architecture and setting
// of the varying parameters others, in the groups' order.
func splitSeries(groups []*Group, others []string) []*series {
	var out []*series
	index := map[string]*series{}
	for _, g := range groups {
		label := g.Arch
		for _, k := range others {
			label += " " + k + "=" + FormatParam(g.Params[k])
		}
		s := index[label]
		if s == nil {
			s = &series{label: label}
			index[label] = s
			out = append(out, s)
		}
		s.groups = append(s.groups, g)
	}
	return out
}

// barPlot draws m's median as a bar per architecture, grouped by setting.
func barPlot(title string, m Metric, groups []*Group) (*plot.Plot, error) {
	var settings, archs []string
	median := map[string]float64{}
	for _, g := range groups {
		if !slices.Contains(settings, g.Key) {
			settings = append(settings, g.Key)
		}
		if !slices.Contains(archs, g.Arch) {
			archs = append(archs, g.Arch)
		}
		median[g.Arch+"\x00"+g.Key] = Summarize(g.Values(m)).Median
	}
	p := newPlot(title, "", m.Label+" ("+m.Unit+")", false)
	p.Legend.Left = true
	width := vg.Points(math.Min(36, 330/float64(len(settings)*len(archs))))
	for i, arch := range archs {
		vals := make(plotter.Values, len(settings))
		for j, s := range settings {
			vals[j] = median[arch+"\x00"+s]
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("bar plot %q: %w", title, err)
		}
		b.Color = Color(i)
		b.LineStyle.Width = vg.Points(0.5)
		b.Offset = vg.Length(float64(i)-float64(len(archs)-1)/2) * width
		p.Add(b)
		p.Legend.Add(arch, b)
	}
	labels := make([]string, len(settings))
	for j, s := range settings {
		labels[j] = settingLabel(s)
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.6, float64(len(settings))-0.4
	p.Y.Min = 0
	p.Y.Max *= 1.15 // room for the legend above the bars
	return p, nil
}

// percentiles are the quantiles a latency plot draws, in percent.
var percentiles = []float64{0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99}

// latencyPlot draws the latency distribution of each group (one setting, one
// line per architecture), every trial's total histogram merged.
func latencyPlot(title string, groups []*Group) (*plot.Plot, error) {
	p := newPlot(title, "percentile", "latency (ms)", true)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.ConstantTicks{{Value: 1, Label: "0%"}, {Value: 2, Label: "50%"},
		{Value: 10, Label: "90%"}, {Value: 100, Label: "99%"}, {Value: 1000, Label: "99.9%"},
		{Value: 10000, Label: "99.99%"}}
	p.Legend.Left = true
	for i, g := range groups {
		h, err := mergedHistogram(g)
		if err != nil {
			return nil, fmt.Errorf("latency plot %q: %s: %w", title, g.Arch, err)
		}
		if h.TotalCount() == 0 {
			continue
		}
		var xys plotter.XYs
		for _, q := range percentiles {
			xys = append(xys, plotter.XY{X: 1 / (1 - q/100), Y: float64(h.ValueAtQuantile(q)) / 1000})
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("latency plot %q: %w", title, err)
		}
		line.Color = Color(i)
		line.Width = vg.Points(1.5)
		line.Dashes = plotutil.Dashes(i)
		p.Add(line)
		p.Legend.Add(g.Arch, line)
	}
	p.Y.Min = 0
	return p, nil
}

// mergedHistogram merges the total-latency histograms of g's trials.
func mergedHistogram(g *Group) (*hdrhistogram.Histogram, error) {
	var merged *hdrhistogram.Histogram
	for _, r := range g.Results {
		if _, ok := r.Histograms[results.HistogramTotal]; !ok {
			continue
		}
		h, err := r.Histogram(results.HistogramTotal)
		if err != nil {
			return nil, err
		}
		if merged == nil {
			merged = h
			continue
		}
		merged.Merge(h)
	}
	if merged == nil {
		return hdrhistogram.New(1, 2, 1), nil
	}
	return merged, nil
}

// plainTicks are gonum's default ticks labelled without trailing zeros.
type plainTicks struct{}

// Ticks returns plot.DefaultTicks between min and max, relabelled.
func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', -1, 64)
		}
	}
	return ticks
}

// sizeTicks labels a log-scaled byte axis in B, KB and MB.
type sizeTicks struct{}

// Ticks returns powers of ten (and their halves when few) between min and max.
func (sizeTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.LogTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = FormatBytes(ticks[i].Value)
		}
	}
	return ticks
}

// FormatBytes formats a size in bytes as people read file sizes: 500 B, 50 KB, 1 MB.
func FormatBytes(v float64) string {
	for _, u := range []struct {
		size float64
		unit string
	}{{1 << 30, "GB"}, {1 << 20, "MB"}, {1 << 10, "KB"}, {1000 * 1000 * 1000, "GB"}, {1000 * 1000, "MB"}, {1000, "KB"}} {
		if v >= u.size && math.Mod(v, u.size) == 0 {
			return fmt.Sprintf("%g %s", v/u.size, u.unit)
		}
	}
	if v >= 1000 {
		return fmt.Sprintf("%.3g KB", v/1024)
	}
	return fmt.Sprintf("%g B", v)
}

// paramLabel is an axis label for a parameter name.
func paramLabel(param string) string {
	switch param {
	case "file_size_bytes":
		return "file size"
	case "dataset_bytes":
		return "data set size"
	case "clients":
		return "clients"
	case "connections":
		return "simultaneous connections"
	}
	return param
}

// settingLabel is a short label for a setting on a nominal axis: sizes in
// KB/MB, "all" for no parameters.
func settingLabel(key string) string {
	if key == "" {
		return "all"
	}
	parts := strings.Split(key, ", ")
	for i, part := range parts {
		k, v, _ := strings.Cut(part, "=")
		if f, err := strconv.ParseFloat(v, 64); err == nil && strings.HasSuffix(k, "_bytes") {
			v = FormatBytes(f)
		}
		if len(parts) == 1 {
			parts[i] = v
		} else {
			parts[i] = k + "=" + v
		}
	}
	return strings.Join(parts, ", ")
}
