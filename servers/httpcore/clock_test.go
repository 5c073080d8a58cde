package httpcore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeClock is a Core clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newClockCore(t *testing.T, cfg Config) (*Core, *fakeClock) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	clk := &fakeClock{t: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	c.now = clk.now
	return c, clk
}

func getReq(path string) *Request {
	return &Request{Method: MethodGET, Path: []byte(path), Major: 1, Minor: 1, KeepAlive: true, ContentLength: -1}
}

func TestDateCache(t *testing.T) {
	var d dateCache
	t0 := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	e1 := d.get(t0)
	if got, want := string(e1.b[:]), "Sun, 06 Nov 1994 08:49:37 GMT"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if e2 := d.get(t0.Add(999 * time.Millisecond)); e2 != e1 {
		t.Fatalf("same second: got a new entry, want the cached one")
	}
	e3 := d.get(t0.Add(time.Second))
	if e3 == e1 || string(e3.b[:]) != "Sun, 06 Nov 1994 08:49:38 GMT" || string(e1.b[:]) != "Sun, 06 Nov 1994 08:49:37 GMT" {
		t.Fatalf("next second: got %q (old entry now %q)", e3.b, e1.b)
	}
	local := time.Date(1994, 11, 6, 9, 49, 37, 0, time.FixedZone("CET", 3600))
	if got := string(AppendHTTPDate(nil, local)); got != "Sun, 06 Nov 1994 08:49:37 GMT" {
		t.Fatalf("non-UTC time: got %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { d.get(t0.Add(time.Second)) }); n != 0 {
		t.Fatalf("cached date: got %v allocs, want 0", n)
	}
}

func TestHeaderCacheImmutable(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, clk := newClockCore(t, Config{Root: root})
	var p Plan
	c.Respond(getReq("/f.txt"), &p)
	h1 := p.Header
	saved := bytes.Clone(h1)
	p.Release()
	c.Respond(getReq("/f.txt"), &p)
	if &p.Header[0] != &h1[0] {
		t.Fatalf("same second: got a rebuilt header, want the cached slice")
	}
	p.Release()
	clk.t = clk.t.Add(time.Second)
	c.Respond(getReq("/f.txt"), &p)
	h2 := p.Header
	p.Release()
	if !bytes.Equal(h1, saved) {
		t.Fatalf("header handed out earlier changed:\n%q\nwas\n%q", h1, saved)
	}
	if &h2[0] == &h1[0] || !bytes.Contains(h2, []byte("Date: Tue, 02 Jan 2024 03:04:06 GMT\r\n")) {
		t.Fatalf("next second: got %q, want a new slice with the new date", h2)
	}
	if st := c.Stats(); st.HeaderMisses != 1 || st.HeaderHits != 2 {
		t.Fatalf("got %+v, want 1 header miss and 2 hits", st)
	}
}

func TestRevalidateAfterInterval(t *testing.T) {
	root := t.TempDir()
	name := filepath.Join(root, "f.txt")
	if err := os.WriteFile(name, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, clk := newClockCore(t, Config{Root: root, Revalidate: time.Second})
	body := func() string {
		var p Plan
		c.Respond(getReq("/f.txt"), &p)
		defer p.Release()
		var b []byte
		for _, ch := range p.Chunks {
			if err := Touch(ch.Bytes()); err != nil {
				t.Fatal(err)
			}
			b = append(b, ch.Bytes()...)
		}
		return string(b)
	}
	if got := body(); got != "one" {
		t.Fatalf("got %q, want one", got)
	}
	if err := os.WriteFile(filepath.Join(root, "tmp"), []byte("second"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "tmp"), name); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(500 * time.Millisecond)
	if got := body(); got != "one" {
		t.Fatalf("within the interval: got %q, want the cached one", got)
	}
	f, ok := c.CachedFile([]byte("/f.txt"))
	if !ok || f.Size() != 3 {
		t.Fatalf("within the interval: CachedFile got %v, want the old translation", ok)
	}
	f.Release()
	clk.t = clk.t.Add(time.Second)
	if _, ok := c.CachedFile([]byte("/f.txt")); ok {
		t.Fatalf("past the interval: CachedFile got a hit, want false")
	}
	if got := body(); got != "second" {
		t.Fatalf("past the interval: got %q, want second", got)
	}
	// Unchanged after another interval: a re-stat, counted as a hit.
	clk.t = clk.t.Add(2 * time.Second)
	before := c.Stats()
	if got := body(); got != "second" {
		t.Fatalf("got %q, want second", got)
	}
	if after := c.Stats(); after.PathHits != before.PathHits+1 || after.PathMisses != before.PathMisses {
		t.Fatalf("unchanged revalidation: got %+v after %+v, want one more hit", after, before)
	}
}

// TestRevalidatedFile checks the event loop's revalidation: past the
// interval CachedFile misses, RevalidatedFile re-stats and hits while the
// file is unchanged (fresh again from then on), and misses once the path
// names a changed or another file, leaving the work to Resolve.
func TestRevalidatedFile(t *testing.T) {
	root := t.TempDir()
	name := filepath.Join(root, "f.txt")
	if err := os.WriteFile(name, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, clk := newClockCore(t, Config{Root: root, Revalidate: time.Second})
	f, e := c.Resolve([]byte("/f.txt"))
	if e != nil {
		t.Fatal(e)
	}
	f.Release()
	clk.t = clk.t.Add(2 * time.Second)
	if _, ok := c.CachedFile([]byte("/f.txt")); ok {
		t.Fatal("past the interval: CachedFile got a hit, want false")
	}
	before := c.Stats()
	f, ok := c.RevalidatedFile([]byte("/f.txt"))
	if !ok || f.Size() != 3 {
		t.Fatalf("unchanged past the interval: RevalidatedFile got %v, want the cached translation", ok)
	}
	f.Release()
	if after := c.Stats(); after.PathHits != before.PathHits+1 || after.PathMisses != before.PathMisses {
		t.Fatalf("revalidated: got %+v after %+v, want one more hit and no miss", after, before)
	}
	if f, ok := c.CachedFile([]byte("/f.txt")); !ok {
		t.Fatal("just revalidated: CachedFile got false, want a fresh hit")
	} else {
		f.Release()
	}
	if err := os.WriteFile(filepath.Join(root, "tmp"), []byte("second"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "tmp"), name); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(2 * time.Second)
	if _, ok := c.RevalidatedFile([]byte("/f.txt")); ok {
		t.Fatal("replaced: RevalidatedFile got a hit, want false")
	}
	if f, e = c.Resolve([]byte("/f.txt")); e != nil || f.Size() != 6 {
		t.Fatalf("replaced: Resolve got %v, want the new file", e)
	}
	f.Release()
	if _, ok := c.RevalidatedFile([]byte("/nothing")); ok {
		t.Fatal("absent path: RevalidatedFile got a hit")
	}
}
