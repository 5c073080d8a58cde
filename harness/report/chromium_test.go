package report_test

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"flashbench/harness/report"
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
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(tmp, "profile"), "--screenshot="+shot, "--window-size=1200,2000",
		"file://"+htmlPath)
	cmd.Env = append(os.Environ(), "HOME="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	// Chromium's helpers share its process group: end any left behind.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v\n%s", err, out)
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
