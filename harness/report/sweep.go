package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// errPoints is medians with their min..max spread as Y errors.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// series is one line of a sweep plot: one architecture (and setting of
// the parameters that are not on the x axis).
type series struct {
	label  string
	arch   string
	groups []*Group
}

// sweepFigure draws m's median against the numeric parameter param, a line
// per architecture with min..max error bars, the legend beside the plot.
func sweepFigure(name, title, param string, m Metric, groups []*Group, others []string) (*figure, error) {
	p := newPlot(paramLabel(param), axisLabel(m), true, true)
	if lo, hi := xRange(param, groups); lo > 0 && hi/lo >= 50 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		if strings.HasSuffix(param, "_bytes") {
			p.X.Tick.Marker = sizeTicks{}
		}
	} else if strings.HasSuffix(param, "_bytes") {
		p.X.Tick.Marker = sizeTicks{linear: true}
	}
	f := &figure{name: name, title: title, plot: p}
	all := splitSeries(groups, others)
	archs := make([]string, len(all))
	for i, s := range all {
		archs[i] = s.arch
	}
	styles := lineStyles(archs)
	for i, s := range all {
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
		line, points, err := plotter.NewLinePoints(pts.XYs)
		if err != nil {
			return nil, fmt.Errorf("sweep plot %q: %w", title, err)
		}
		bars, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, fmt.Errorf("sweep plot %q: %w", title, err)
		}
		st := styles[i]
		line.Color, points.Color, bars.Color = st.color, st.color, st.color
		line.Width = vg.Points(1.5)
		line.Dashes = st.dashes
		points.Shape = st.shape
		p.Add(line, points, bars)
		f.legend = append(f.legend, legendEntry{s.label, []plot.Thumbnailer{line, points}})
	}
	p.Y.Min = math.Min(0, p.Y.Min)
	return f, nil
}

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
			s = &series{label: label, arch: g.Arch}
			index[label] = s
			out = append(out, s)
		}
		s.groups = append(s.groups, g)
	}
	return out
}
