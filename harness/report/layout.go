package report

import (
	"bytes"
	"fmt"
	"image/color"
	"regexp"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot is one rendered plot: Name is its file name in plots/ without the
// extension.
type Plot struct {
	Name, Title string
	SVG, PNG    []byte
}

// plotWidth is every plot's width; plotHeight the least height of one.
const plotWidth, plotHeight = 7 * vg.Inch, 4.2 * vg.Inch

// margin is the white space around a plot, gap the space between its title,
// data and legend.
const margin, gap = vg.Length(6), vg.Length(10)

// sans is the plots' font: Liberation Sans, which gonum embeds, has
// Arial's and Helvetica's metrics, so a browser that lacks it substitutes
// one of the same widths.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// svgFonts is the font-family list SVG text asks for: Liberation Sans or a
// font of the same metrics.
const svgFonts = "Liberation Sans, Arimo, Arial, Helvetica, sans-serif"

// figure is a plot before it is rendered: the plot without a title, the
// title drawn above it wrapped to the page, and a legend beside its data
// area, never over it.
type figure struct {
	name, title string
	plot        *plot.Plot
	legend      []legendEntry
	// height is the canvas height; 0 for plotHeight.
	height vg.Length
}

// legendEntry is one line of a figure's legend.
type legendEntry struct {
	text   string
	thumbs []plot.Thumbnailer
}

// layout is where a figure's parts go on a canvas.
type layout struct {
	title        string
	titleAt      vg.Point
	plot, legend draw.Canvas
	data         vg.Rectangle
}

// textStyle is the plots' text at size points.
func textStyle(size float64) text.Style {
	return text.Style{Font: font.From(sans, vg.Points(size)), Handler: plot.DefaultTextHandler, Color: color.Black}
}

// titleStyle is a figure's title: centred, hanging from its point.
func titleStyle() text.Style {
	s := textStyle(13)
	s.XAlign, s.YAlign = draw.XCenter, draw.YTop
	return s
}

// axesHeight is about the height of a plot's x axis, ticks and label: the
// least room under a legend.
const axesHeight = vg.Length(30)

// newLegend is a figure's legend, its entries drawn on c's top left.
func (f *figure) newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle = textStyle(10)
	l.Top, l.Left = true, true
	l.Padding = vg.Points(1.5)
	for _, e := range f.legend {
		l.Add(e.text, e.thumbs...)
	}
	return l
}

// legendSize is the width and height of the figure's legend.
func (f *figure) legendSize() (w, h vg.Length) {
	if len(f.legend) == 0 {
		return 0, 0
	}
	l := f.newLegend()
	r := l.Rectangle(draw.Canvas{})
	return r.Size().X, r.Size().Y
}

// size is the figure's canvas size: plotWidth, and a height that holds
// its title and its legend.
func (f *figure) size() (w, h vg.Length) {
	h = f.height
	if h == 0 {
		h = plotHeight
	}
	_, lh := f.legendSize()
	title := titleStyle()
	need := 2*margin + title.Height(wrapText(f.title, title, plotWidth-2*margin)) + gap + lh + axesHeight
	return plotWidth, max(h, need)
}

// layout places the figure's title, plot and legend on c.
func (f *figure) layout(c draw.Canvas) layout {
	title := titleStyle()
	inner := draw.Crop(c, margin, -margin, margin, -margin)
	lines := wrapText(f.title, title, inner.Size().X)
	body := draw.Crop(inner, 0, 0, 0, -(title.Height(lines) + gap/2))
	lw, _ := f.legendSize()
	if lw > 0 {
		lw += gap
	}
	plotArea := draw.Crop(body, 0, -lw, 0, 0)
	data := f.plot.DataCanvas(plotArea).Rectangle
	legend := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: plotArea.Max.X + gap, Y: body.Min.Y},
		Max: vg.Point{X: body.Max.X, Y: data.Max.Y},
	}}
	return layout{title: lines, titleAt: vg.Point{X: inner.Center().X, Y: inner.Max.Y},
		plot: plotArea, legend: legend, data: data}
}

// draw draws the figure on c, telling an SVG canvas which part it draws.
func (f *figure) draw(c draw.Canvas, rec *svgCanvas) layout {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	l := f.layout(c)
	rec.part("title")
	c.FillText(titleStyle(), l.titleAt, l.title)
	rec.part("")
	f.plot.Draw(l.plot)
	rec.part("legend")
	legend := f.newLegend()
	legend.Draw(l.legend)
	rec.part("")
	return l
}

// wrapText breaks s at spaces into lines no wider than width in style,
// so that a long title shows whole; a word wider than width keeps a
// line of its own.
func wrapText(s string, style text.Style, width vg.Length) string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && style.Width(line+" "+word) > width {
			lines = append(lines, line)
			line = word
			continue
		}
		line = strings.TrimPrefix(line+" "+word, " ")
	}
	return strings.Join(append(lines, line), "\n")
}

// render draws f as SVG and PNG.
func render(f *figure) (Plot, error) {
	out := Plot{Name: f.name, Title: f.title}
	w, h := f.size()
	svg := &svgCanvas{Canvas: vgsvg.New(w, h)}
	l := f.draw(draw.New(svg), svg)
	var b bytes.Buffer
	if _, err := svg.WriteTo(&b); err != nil {
		return Plot{}, fmt.Errorf("plot %s: render svg: %w", f.name, err)
	}
	var err error
	if out.SVG, err = svg.annotate(b.Bytes(), l.data, h); err != nil {
		return Plot{}, fmt.Errorf("plot %s: %w", f.name, err)
	}
	img := vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	f.draw(draw.New(img), nil)
	b.Reset()
	if _, err := img.WriteTo(&b); err != nil {
		return Plot{}, fmt.Errorf("plot %s: render png: %w", f.name, err)
	}
	out.PNG = b.Bytes()
	return out, nil
}

// svgCanvas is an SVG canvas that remembers the width and the part (title,
// legend or plot) of every string it draws, to annotate the SVG after.
type svgCanvas struct {
	*vgsvg.Canvas
	current string
	texts   []svgText
}

// svgText is one string drawn on an svgCanvas.
type svgText struct {
	width vg.Length
	part  string
}

// part sets the part the next strings belong to; a nil canvas (the PNG's)
// ignores it.
func (c *svgCanvas) part(name string) {
	if c != nil {
		c.current = name
	}
}

// FillString draws str and records its width, as gonum measured it.
func (c *svgCanvas) FillString(f font.Face, pt vg.Point, str string) {
	c.texts = append(c.texts, svgText{width: f.Width(str), part: c.current})
	c.Canvas.FillString(f, pt, str)
}

var (
	svgTextTag = regexp.MustCompile(`<text `)
	svgFont    = regexp.MustCompile(`font-family:Liberation Sans`)
)

// annotate makes the SVG's text keep gonum's layout in any browser: each
// <text> gets the width gonum measured (textLength, glyphs scaled to it),
// so a substitute font can neither overflow nor collide, and the font
// list names Liberation Sans's metric twins. It marks the parts a reader
// (or a test) may look for: class "title" and "legend" on their text,
// and a transparent <rect class="data-area"> over the data area.
func (c *svgCanvas) annotate(svg []byte, data vg.Rectangle, height vg.Length) ([]byte, error) {
	tags := svgTextTag.FindAllIndex(svg, -1)
	if len(tags) != len(c.texts) {
		return nil, fmt.Errorf("annotate svg: %d <text> elements for %d strings drawn", len(tags), len(c.texts))
	}
	var b bytes.Buffer
	last := 0
	for i, t := range c.texts {
		b.Write(svg[last:tags[i][1]])
		last = tags[i][1]
		if t.part != "" {
			fmt.Fprintf(&b, `class="%s" `, t.part)
		}
		fmt.Fprintf(&b, `textLength="%.2f" lengthAdjust="spacingAndGlyphs" `, t.width.Points())
	}
	rest := svg[last:]
	end := bytes.LastIndex(rest, []byte("</svg>"))
	if end < 0 {
		return nil, fmt.Errorf("annotate svg: no </svg>")
	}
	b.Write(rest[:end])
	fmt.Fprintf(&b, `<rect class="data-area" x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="none" stroke="none"/>`+"\n",
		data.Min.X.Points(), (height - data.Max.Y).Points(), data.Size().X.Points(), data.Size().Y.Points())
	b.Write(rest[end:])
	return svgFont.ReplaceAll(b.Bytes(), []byte("font-family:"+svgFonts)), nil
}
