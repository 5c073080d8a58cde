package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// newPlot returns a plot with flashbench's common look: its font, light
// grid lines, axes labelled with their units. The title is the figure's.
func newPlot(xLabel, yLabel string, verticalGrid, horizontalGrid bool) *plot.Plot {
	p := plot.New()
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, vg.Points(11))
		a.Tick.Label.Font = font.From(sans, vg.Points(10))
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = nil, nil
	if verticalGrid {
		grid.Vertical.Color = color.Gray{Y: 0xe4}
	}
	if horizontalGrid {
		grid.Horizontal.Color = color.Gray{Y: 0xe4}
	}
	p.Add(grid)
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	return p
}

// swatch is a legend thumbnail filled with one colour.
type swatch struct{ color color.Color }

// Thumbnail fills c's rectangle, inset a little, with the swatch's colour.
func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	r.Min.Y += 1
	r.Max.Y -= 1
	c.SetColor(s.color)
	c.Fill(r.Path())
}

// axisLabel is m's axis label: its name and unit.
func axisLabel(m Metric) string { return m.Label + " (" + m.Unit + ")" }

// xRange returns the smallest and largest value of param.
func xRange(param string, groups []*Group) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, g := range groups {
		x, _ := Number(g.Params[param])
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
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

// sizeTicks labels a byte axis in B, KB and MB, log-scaled unless linear.
type sizeTicks struct{ linear bool }

// Ticks returns powers of ten (and their halves when few) between min and
// max, or gonum's default ticks on a linear axis.
func (t sizeTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	if t.linear {
		ticks = plot.DefaultTicks{}.Ticks(min, max)
	} else {
		ticks = plot.LogTicks{}.Ticks(min, max)
	}
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = FormatBytes(ticks[i].Value)
		}
	}
	return ticks
}

// logTicks labels a logarithmic axis: 1, 2 and 5 times each power of ten
// when the axis spans three decades or fewer, the powers alone when it
// spans more, so that a 1 ms median and a 1 s tail both get a number.
type logTicks struct{}

// Ticks returns the labelled ticks between min and max and an unlabelled
// one at every other integer multiple of a power of ten.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= min {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	labelled := []float64{1, 2, 5}
	if math.Log10(max/min) > 3 {
		labelled = []float64{1}
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for m := 1.0; m < 10; m++ {
			v := m * math.Pow(10, e)
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if slices.Contains(labelled, m) {
				v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ticks = append(ticks, t)
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
