package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/harness/report"
	"flashbench/harness/report/reporttest"
)

// chromium returns Debian's headless-capable Chromium, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("chromium not installed (apt-get install -y chromium): the HTML report is not rendered")
	return ""
}

// runChromium runs headless Chromium with args and a profile of its own
// in tmp, and returns what it printed on stdout.
func runChromium(t *testing.T, bin, tmp string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(tmp, "profile")}, args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// Chromium's helpers share its process group: end any left behind.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.Bytes())
	}
	return out
}

// TestHTMLRendersInChromium opens report.html in headless Chromium, from the
// file alone, and checks the screenshot shows the plots: their coloured
// lines and marks are the only saturated pixels on the page.
func TestHTMLRendersInChromium(t *testing.T) {
	bin := chromium(t)
	dir := writeRun(t, sweepSpec())
	_, htmlPath, err := report.Write(dir)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	tmp := t.TempDir()
	shot := filepath.Join(tmp, "shot.png")
	runChromium(t, bin, tmp, "--screenshot="+shot, "--window-size=1200,2000", "file://"+htmlPath)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 2000 {
		t.Errorf("screenshot: got %dx%d, want 1200x2000", b.Dx(), b.Dy())
	}
	if n := saturated(img); n < 2000 {
		t.Errorf("screenshot: got %d coloured pixels, want the plots' lines (>= 2000)", n)
	}
}

// saturated counts the strongly coloured pixels of img: not white, grey or
// black text and table rules.
func saturated(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			hi, lo := max(r, g, bl)>>8, min(r, g, bl)>>8
			if hi-lo > 60 {
				n++
			}
		}
	}
	return n
}

// hotos97Archs are the hotos97 experiment's 19 architectures: as many
// series as a report plots.
var hotos97Archs = []string{"sped", "sped-nocache", "amped", "flashlite", "forking", "prefork", "threaded", "nethttp",
	"fasthttp", "null", "nginx", "apache2-prefork", "apache2-worker", "apache2-event", "lighttpd", "mini_httpd",
	"webfsd", "caddy", "h2o"}

// realisticSpec is a run like hotos97's: its long figure title, 19
// architectures with nginx among them, two file sizes, a CPU budget (so
// server CPU per request is plotted) and open-loop latencies (so
// corrected and uncorrected ones are).
func realisticSpec() reporttest.Spec {
	file := `description = "500 B and 50 KB cached files, one request per connection: every architecture and the real servers"
figure = "HotOS 1997, Table 1 (connections/s for 500 B and 50 KB files)"
archs = ["` + strings.Join(hotos97Archs, `", "`) + `"]
`
	return reporttest.Spec{Experiment: "hotos97", ExperimentFile: file, Archs: hotos97Archs,
		Param: "file_size_bytes", Values: []float64{500, 51200}, Trials: 3, Seed: 3, Budget: 0.3, OpenLoop: true}
}

// geometry is what geometryScript finds on the rendered page.
type geometry struct {
	// Width is the window's width in CSS pixels.
	Width int `json:"width"`
	// Overflow lists the elements wider than their box, outside scroll
	// containers; Scrolled the scroll containers that do scroll.
	Overflow []string `json:"overflow"`
	Scrolled []string `json:"scrolled"`
	// Outside lists the SVG texts that lie outside their SVG.
	Outside []string `json:"outside"`
	// Overlap lists the legend texts that lie over a data area.
	Overlap                      []string `json:"overlap"`
	SVGs, DataAreas, LegendTexts int
}

// geometryScript measures the laid-out page and writes a geometry, as
// JSON, into <pre id="geometry">. Boxes are client rectangles: an SVG's is
// its viewBox as drawn, and a text's is where its glyphs are drawn, every
// transform applied.
const geometryScript = `<script>
(function () {
  const g = {width: window.innerWidth, overflow: [], scrolled: [], outside: [], overlap: [], SVGs: 0, DataAreas: 0, LegendTexts: 0};
  const box = r => '[' + [r.left, r.top, r.right, r.bottom].map(Math.round).join(' ') + ']';
  const name = e => {
    let s = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '');
    const c = e.getAttribute('class');
    if (c) s += '.' + c.trim().split(/\s+/).join('.');
    const f = e.closest('figure');
    if (f && f !== e) s = f.id + ' ' + s;
    return s + ' "' + (e.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 50) + '"';
  };
  for (const e of [document.documentElement, ...document.body.querySelectorAll('*')]) {
    if (e instanceof SVGElement || e.scrollWidth <= e.clientWidth + 1) continue;
    const o = getComputedStyle(e).overflowX;
    if (e !== document.documentElement && (o === 'auto' || o === 'scroll')) {
      g.scrolled.push(name(e));
      continue;
    }
    g.overflow.push(name(e) + ': scrollWidth ' + e.scrollWidth + ' > clientWidth ' + e.clientWidth);
  }
  for (const svg of document.querySelectorAll('figure svg')) {
    g.SVGs++;
    const b = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width > 0 && (r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1)) {
        g.outside.push(name(t) + ' ' + box(r) + ' outside its svg ' + box(b));
      }
    }
    const areas = Array.from(svg.querySelectorAll('rect.data-area'), a => a.getBoundingClientRect());
    g.DataAreas += areas.length;
    for (const t of svg.querySelectorAll('text.legend')) {
      g.LegendTexts++;
      const r = t.getBoundingClientRect();
      for (const a of areas) {
        if (r.left < a.right && a.left < r.right && r.top < a.bottom && a.top < r.bottom) {
          g.overlap.push(name(t) + ' ' + box(r) + ' over the data area ' + box(a));
        }
      }
    }
  }
  const pre = document.createElement('pre');
  pre.id = 'geometry';
  pre.textContent = JSON.stringify(g);
  document.body.appendChild(pre);
})();
</script>
`

// TestHTMLGeometry is the report's layout test: a realistic run's
// report.html, rendered by headless Chromium 1300 px wide, must have no
// element wider than its box (but for scroll containers), no plot text
// outside its plot, and no legend over a plot's data area. A copy of the
// page gets geometryScript (report.html itself runs no script), and
// Chromium prints the laid-out DOM with what the script found.
func TestHTMLGeometry(t *testing.T) {
	bin := chromium(t)
	_, htmlPath, err := report.Write(writeRun(t, realisticSpec()))
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	page := readFile(t, htmlPath)
	tmp := t.TempDir()
	probe := filepath.Join(tmp, "geometry.html")
	if err := os.WriteFile(probe, []byte(strings.Replace(page, "</body>", geometryScript+"</body>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(runChromium(t, bin, tmp, "--dump-dom", "--window-size=1300,3000", "file://"+probe))
	_, rest, ok := strings.Cut(dom, `<pre id="geometry">`)
	found, _, ok2 := strings.Cut(rest, "</pre>")
	if !ok || !ok2 {
		t.Fatalf("chromium's DOM has no geometry: the script did not run\n%.2000s", dom)
	}
	var g geometry
	if err := json.Unmarshal([]byte(html.UnescapeString(found)), &g); err != nil {
		t.Fatalf("geometry %q: %v", found, err)
	}
	plots := strings.Count(page, "<figure")
	if g.Width != 1300 || g.SVGs != plots || g.DataAreas != plots || g.LegendTexts < 2*len(hotos97Archs) {
		t.Errorf("measured a %d px window, %d svg, %d data areas, %d legend texts; want 1300 px, %d of each of the first two, and the latency legends' %d texts at least",
			g.Width, g.SVGs, g.DataAreas, g.LegendTexts, plots, 2*len(hotos97Archs))
	}
	for _, e := range g.Overflow {
		t.Errorf("overflows its box: %s", e)
	}
	for _, e := range g.Outside {
		t.Errorf("plot text cut off: %s", e)
	}
	for _, e := range g.Overlap {
		t.Errorf("legend over the data: %s", e)
	}
	for _, e := range g.Scrolled {
		t.Logf("scrolls in its own box: %s", e)
	}
}
