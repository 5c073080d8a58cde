package report

import (
	"image/color"
	"strings"

	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Family is a kind of server architecture. Plots colour an architecture by
// its family, so that a reader sees at a glance whether event-driven
// servers beat threads and processes, whatever the number of servers.
type Family int

// The families, in legend order.
const (
	EventDriven Family = iota
	Threads
	Processes
	GoBaselines
	RealServers
	LimitReference
)

// String is the family's name as legends show it.
func (f Family) String() string {
	return [...]string{"event-driven", "threads", "processes", "Go baselines", "real servers", "limit reference"}[f]
}

// FamilyOf returns the family of arch: flashbench's own architectures and
// variants by their name's stem, a base contender ("sped@base") as its
// architecture, and every other name (nginx, apache2-event, a server
// added later) as a real server.
func FamilyOf(arch string) Family {
	arch = strings.TrimSuffix(arch, BaseSuffix)
	stem, _, _ := strings.Cut(arch, "-")
	switch {
	case arch == "null" || strings.HasSuffix(arch, "-null"):
		return LimitReference
	case stem == "sped" || stem == "amped" || stem == "flashlite" || stem == "uring":
		return EventDriven
	case stem == "threaded":
		return Threads
	case stem == "forking" || stem == "prefork":
		return Processes
	case stem == "nethttp" || stem == "fasthttp":
		return GoBaselines
	}
	return RealServers
}

// familyShades are each family's colours, darkest first: a bar takes the
// first, lines of one family take them in turn. The hues are Tableau's,
// which stay apart for most colour-blind readers.
var familyShades = [...][]color.RGBA{
	EventDriven:    {{0x1f, 0x5a, 0x96, 0xff}, {0x4e, 0x9a, 0xd6, 0xff}, {0x0b, 0x2f, 0x57, 0xff}, {0x86, 0xbc, 0xe8, 0xff}},
	Threads:        {{0xe0, 0x7b, 0x10, 0xff}, {0xa8, 0x55, 0x00, 0xff}, {0xf5, 0xa9, 0x5b, 0xff}},
	Processes:      {{0xc8, 0x30, 0x32, 0xff}, {0x8a, 0x16, 0x18, 0xff}, {0xee, 0x80, 0x80, 0xff}},
	GoBaselines:    {{0x3d, 0x8b, 0x37, 0xff}, {0x1e, 0x55, 0x1b, 0xff}, {0x8c, 0xc6, 0x84, 0xff}},
	RealServers:    {{0x8e, 0x5a, 0x9e, 0xff}, {0x55, 0x2c, 0x66, 0xff}, {0xb7, 0x93, 0xc4, 0xff}, {0x9c, 0x75, 0x5f, 0xff}, {0x5e, 0x41, 0x30, 0xff}},
	LimitReference: {{0x55, 0x55, 0x55, 0xff}, {0x22, 0x22, 0x22, 0xff}, {0x99, 0x99, 0x99, 0xff}},
}

// FamilyColor is the colour of arch's bars: its family's, lighter for a
// base contender, so that "sped" and "sped@base" read as one server built
// twice.
func FamilyColor(arch string) color.Color {
	c := familyShades[FamilyOf(arch)][0]
	if strings.HasSuffix(arch, BaseSuffix) {
		return lighter(c)
	}
	return c
}

// lighter mixes c halfway with white.
func lighter(c color.RGBA) color.RGBA {
	mix := func(v uint8) uint8 { return v + (0xff-v)/2 }
	return color.RGBA{mix(c.R), mix(c.G), mix(c.B), 0xff}
}

// lineStyle is how one series of a line plot is drawn.
type lineStyle struct {
	color  color.Color
	dashes []vg.Length
	shape  draw.GlyphDrawer
}

// lineStyles gives each series, by its architecture, a style that no
// other series of the plot has: the family's shades and dash patterns in
// turn, and a marker of its own, so that 19 servers on one plot stay apart. A
// base contender is drawn as its architecture, lighter and dashed.
func lineStyles(archs []string) []lineStyle {
	seen := map[Family]int{}
	own := map[string]lineStyle{}
	out := make([]lineStyle, len(archs))
	for i, arch := range archs {
		if strings.HasSuffix(arch, BaseSuffix) {
			continue
		}
		f := FamilyOf(arch)
		n := seen[f]
		seen[f]++
		shades := familyShades[f]
		out[i] = lineStyle{color: shades[n%len(shades)], dashes: plotutil.Dashes(n), shape: plotutil.Shape(i)}
		own[arch] = out[i]
	}
	for i, arch := range archs {
		a, isBase := strings.CutSuffix(arch, BaseSuffix)
		if !isBase {
			continue
		}
		st, ok := own[a]
		if !ok {
			st = lineStyle{color: familyShades[FamilyOf(a)][0], shape: plotutil.Shape(i)}
		}
		st.color = lighter(st.color.(color.RGBA))
		st.dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		out[i] = st
	}
	return out
}
