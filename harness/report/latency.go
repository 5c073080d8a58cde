package report

import (
	"fmt"
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"flashbench/results"
)

// percentiles are the quantiles a latency plot draws, in percent.
var percentiles = []float64{0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99}

// latencyFigure draws the latency distribution of each group (one setting,
// one line per architecture), every trial's histogram hist merged, as
// HdrHistogram plots it: percentiles on a log(1/(1-p)) axis, and latency
// on a log axis, so that a 1 ms median and a 1 s tail both read.
func latencyFigure(name, title, hist string, groups []*Group) (*figure, error) {
	p := newPlot("percentile", "latency (ms)", true, true)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.ConstantTicks{{Value: 1}, {Value: 2, Label: "50%"},
		{Value: 10, Label: "90%"}, {Value: 100, Label: "99%"}, {Value: 1000, Label: "99.9%"},
		{Value: 10000, Label: "99.99%"}}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	f := &figure{name: name, title: title, plot: p}
	archs := make([]string, len(groups))
	for i, g := range groups {
		archs[i] = g.Arch
	}
	styles := lineStyles(archs)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, g := range groups {
		h, err := mergedHistogram(g, hist)
		if err != nil {
			return nil, fmt.Errorf("latency plot %q: %s: %w", title, g.Arch, err)
		}
		if h.TotalCount() == 0 {
			continue
		}
		var xys plotter.XYs
		for _, q := range percentiles {
			// A 0 µs value (a coarse clock) sits at the axis floor, 1 µs.
			y := math.Max(float64(h.ValueAtQuantile(q)), 1) / 1000
			xys = append(xys, plotter.XY{X: 1 / (1 - q/100), Y: y})
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("latency plot %q: %w", title, err)
		}
		st := styles[i]
		line.Color, points.Color = st.color, st.color
		line.Width = vg.Points(1.5)
		line.Dashes = st.dashes
		points.Shape, points.Radius = st.shape, vg.Points(2.2)
		p.Add(line, points)
		f.legend = append(f.legend, legendEntry{g.Arch, []plot.Thumbnailer{line, points}})
	}
	if len(f.legend) == 0 {
		lo, hi = 0.1, 10
	}
	// A little room above and below, and at least a decade, so that the
	// axis has labelled ticks.
	p.Y.Min, p.Y.Max = lo/1.25, math.Max(hi*1.25, lo*10)
	return f, nil
}

// hasHistogram reports whether any trial of groups has the histogram
// name: open-loop runs have "uncorrected" beside "total".
func hasHistogram(groups []*Group, name string) bool {
	for _, g := range groups {
		for _, r := range g.Results {
			if _, ok := r.Histograms[name]; ok {
				return true
			}
		}
	}
	return false
}

// mergedHistogram merges the histograms name of g's trials.
func mergedHistogram(g *Group, name string) (*hdrhistogram.Histogram, error) {
	var merged *hdrhistogram.Histogram
	for _, r := range g.Results {
		if _, ok := r.Histograms[name]; !ok {
			continue
		}
		h, err := r.Histogram(name)
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

// latencyHistograms are the histograms a setting's latency plots show and
// what their titles say of each: the total alone for a closed-loop run;
// for an open-loop run, corrected and uncorrected side by side.
func latencyHistograms(groups []*Group) []struct{ hist, suffix, note string } {
	if !hasHistogram(groups, results.HistogramUncorrected) {
		return []struct{ hist, suffix, note string }{{results.HistogramTotal, "", ""}}
	}
	return []struct{ hist, suffix, note string }{
		{results.HistogramTotal, "", ", corrected for coordinated omission (from the intended send time)"},
		{results.HistogramUncorrected, "-uncorrected", ", uncorrected (from the actual send time)"},
	}
}
