package httpcore_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"flashbench/servers/httpcore"
)

func TestCacheCounters(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "f.txt", []byte("hello"))
	tests := []struct {
		name string
		cfg  httpcore.Config
		want httpcore.Stats // after two GETs
	}{
		{"all on", httpcore.Config{}, httpcore.Stats{PathHits: 1, PathMisses: 1, HeaderHits: 1, HeaderMisses: 1, MmapHits: 1, MmapMisses: 1}},
		{"no path", httpcore.Config{NoPathCache: true}, httpcore.Stats{PathMisses: 2, HeaderHits: 1, HeaderMisses: 1, MmapHits: 1, MmapMisses: 1}},
		{"no header", httpcore.Config{NoHeaderCache: true}, httpcore.Stats{PathHits: 1, PathMisses: 1, MmapHits: 1, MmapMisses: 1}},
		{"no mmap", httpcore.Config{NoMmapCache: true}, httpcore.Stats{PathHits: 1, PathMisses: 1, HeaderHits: 1, HeaderMisses: 1, MmapMisses: 2}},
		{"sendfile", httpcore.Config{SendFile: true}, httpcore.Stats{PathHits: 1, PathMisses: 1, HeaderHits: 1, HeaderMisses: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Root = root
			c := newCore(t, tt.cfg)
			for range 2 {
				if r := do(t, c, get("/f.txt")); r.status != 200 || string(r.body) != "hello" {
					t.Fatalf("got %d %q, want 200 hello", r.status, r.body)
				}
			}
			got := c.Stats()
			wantMapped := int64(0)
			if !tt.cfg.NoMmapCache && !tt.cfg.SendFile {
				wantMapped = 5 // the cached chunk stays mapped
			}
			tt.want.MappedBytes = wantMapped
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestCacheCombinations serves the same files under every combination of
// caches, mapped and sendfile, and expects the same bodies and headers.
func TestCacheCombinations(t *testing.T) {
	root := t.TempDir()
	page := int64(os.Getpagesize())
	sizes := map[string]int{"empty": 0, "small.txt": 500, "page.bin": int(page), "multi.bin": int(3*2*page + 123)}
	want := map[string][]byte{}
	for name, n := range sizes {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + len(name))
		}
		writeFile(t, root, name, data)
		want[name] = data
	}
	var first map[string]map[string]string
	for mask := range 16 {
		cfg := httpcore.Config{Root: root, ChunkSize: 2 * page,
			NoPathCache: mask&1 != 0, NoHeaderCache: mask&2 != 0, NoMmapCache: mask&4 != 0, SendFile: mask&8 != 0}
		t.Run(fmt.Sprintf("path=%v,header=%v,mmap=%v,sendfile=%v", !cfg.NoPathCache, !cfg.NoHeaderCache, !cfg.NoMmapCache, cfg.SendFile), func(t *testing.T) {
			c := newCore(t, cfg)
			headers := map[string]map[string]string{}
			for range 3 {
				for name, data := range want {
					r := do(t, c, get("/"+name))
					if r.status != 200 || !bytes.Equal(r.body, data) {
						t.Fatalf("GET /%s: got %d, %d bytes, want 200, %d bytes", name, r.status, len(r.body), len(data))
					}
					delete(r.header, "date")
					headers[name] = r.header
				}
			}
			if first == nil {
				first = headers
			}
			if fmt.Sprint(headers) != fmt.Sprint(first) {
				t.Fatalf("headers %v, want %v as with all caches on", headers, first)
			}
			if c.Stats().MappedBytes > c.Config().MmapCacheBytes {
				t.Fatalf("MappedBytes %d beyond bound %d", c.Stats().MappedBytes, c.Config().MmapCacheBytes)
			}
		})
	}
}

func TestRevalidate(t *testing.T) {
	root := t.TempDir()
	p := writeFile(t, root, "f.txt", []byte("short"))
	for _, sendfile := range []bool{false, true} {
		c := newCore(t, httpcore.Config{Root: root, AlwaysRevalidate: true, SendFile: sendfile})
		must(t, os.WriteFile(p, []byte("short"), 0o644))
		if r := do(t, c, get("/f.txt")); string(r.body) != "short" {
			t.Fatalf("got %q, want short", r.body)
		}
		// Rewritten in place: same inode, new size.
		must(t, os.WriteFile(p, []byte("a longer body"), 0o644))
		r := do(t, c, get("/f.txt"))
		if string(r.body) != "a longer body" || r.header["content-length"] != "13" {
			t.Fatalf("after rewrite: got %q, Content-Length %s, want %q, 13", r.body, r.header["content-length"], "a longer body")
		}
		// Replaced by rename: new inode.
		tmp := writeFile(t, root, "tmp", []byte("renamed!"))
		must(t, os.Rename(tmp, p))
		r = do(t, c, get("/f.txt"))
		if string(r.body) != "renamed!" || r.header["content-length"] != "8" {
			t.Fatalf("after rename: got %q, Content-Length %s, want renamed!, 8", r.body, r.header["content-length"])
		}
		must(t, os.Remove(p))
		if r := do(t, c, get("/f.txt")); r.status != 404 {
			t.Fatalf("after remove: got %d, want 404", r.status)
		}
		st := c.Stats()
		if st.PathMisses != 4 || st.PathHits != 0 {
			t.Fatalf("got %d path hits, %d misses, want 0, 4", st.PathHits, st.PathMisses)
		}
	}
}

func TestPathCacheBound(t *testing.T) {
	root := t.TempDir()
	for i := range 3 {
		writeFile(t, root, fmt.Sprint(i), []byte{byte('a' + i)})
	}
	c := newCore(t, httpcore.Config{Root: root, PathCacheEntries: 2, SendFile: true})
	// A Plan holding file 0 keeps its descriptor open across eviction.
	var held httpcore.Plan
	c.Respond(get("/0"), &held)
	do(t, c, get("/1"))
	do(t, c, get("/2")) // evicts 0, the least recently used
	if r := readPlan(t, &held); string(r.body) != "a" {
		t.Fatalf("evicted but held file: got %q, want a", r.body)
	}
	held.Release()
	do(t, c, get("/2"))
	do(t, c, get("/0"))
	if st := c.Stats(); st.PathHits != 1 || st.PathMisses != 4 {
		t.Fatalf("got %d hits %d misses, want 1 4", st.PathHits, st.PathMisses)
	}
}

func TestMmapCacheBound(t *testing.T) {
	root := t.TempDir()
	page := int64(os.Getpagesize())
	for i := range 5 {
		writeFile(t, root, fmt.Sprint(i), bytes.Repeat([]byte{byte('a' + i)}, int(page)))
	}
	c := newCore(t, httpcore.Config{Root: root, ChunkSize: page, MmapCacheBytes: 3 * page})
	plans := make([]httpcore.Plan, 5)
	for i := range plans {
		c.Respond(get(fmt.Sprint("/", i)), &plans[i])
	}
	// All five are mapped: two evicted chunks live on in their Plans.
	if got := c.Stats().MappedBytes; got != 5*page {
		t.Fatalf("with 5 held plans: got %d mapped bytes, want %d", got, 5*page)
	}
	for i := range plans {
		r := readPlan(t, &plans[i])
		if !bytes.Equal(r.body, bytes.Repeat([]byte{byte('a' + i)}, int(page))) {
			t.Fatalf("held plan %d: wrong body", i)
		}
		if !plans[i].Chunks[0].Resident() {
			t.Fatalf("chunk %d just read: got not resident", i)
		}
		plans[i].Release()
	}
	if got := c.Stats().MappedBytes; got != 3*page {
		t.Fatalf("after release: got %d mapped bytes, want %d", got, 3*page)
	}
	// Cached now: 2, 3, 4 (4 most recent). Touch 2, then map 0: 3 goes.
	do(t, c, get("/2"))
	do(t, c, get("/0"))
	before := c.Stats()
	do(t, c, get("/2"))
	do(t, c, get("/0"))
	do(t, c, get("/4"))
	mid := c.Stats()
	if mid.MmapHits-before.MmapHits != 3 || mid.MmapMisses != before.MmapMisses {
		t.Fatalf("2, 0, 4 should hit: got %+v then %+v", before, mid)
	}
	do(t, c, get("/3"))
	if got := c.Stats(); got.MmapMisses != mid.MmapMisses+1 || got.MappedBytes > 3*page {
		t.Fatalf("3 was the LRU victim: got %+v after %+v", got, mid)
	}
}

func TestConcurrentRespond(t *testing.T) {
	root := t.TempDir()
	page := os.Getpagesize()
	for i := range 8 {
		writeFile(t, root, fmt.Sprint(i), bytes.Repeat([]byte{byte('a' + i)}, page*(i%3+1)))
	}
	c := newCore(t, httpcore.Config{Root: root, ChunkSize: int64(page), MmapCacheBytes: int64(4 * page),
		PathCacheEntries: 3, HeaderCacheEntries: 3})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			var p httpcore.Plan
			for i := range 200 {
				n := (g + i) % 8
				c.Respond(get(fmt.Sprint("/", n)), &p)
				var body []byte
				for _, ch := range p.Chunks {
					body = append(body, ch.Bytes()...)
				}
				if !bytes.Equal(body, bytes.Repeat([]byte{byte('a' + n)}, page*(n%3+1))) {
					errs <- fmt.Errorf("file %d: wrong body of %d bytes", n, len(body))
				}
				p.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := c.Stats().MappedBytes; got > int64(4*page) {
		t.Fatalf("got %d mapped bytes after all releases, want <= %d", got, 4*page)
	}
}

// TestSendFileMin checks the per-size choice of the sendfile path: with
// Config.SendFileMin, a body shorter than it is planned as mapped chunks
// and one at least as long as a file range, each with the file's bytes.
func TestSendFileMin(t *testing.T) {
	root := t.TempDir()
	for _, n := range []int{99, 100, 101} {
		writeFile(t, root, "f"+strconv.Itoa(n), bytes.Repeat([]byte{'x'}, n))
	}
	for _, tt := range []struct {
		min  int64
		size int
		want httpcore.BodyKind
	}{
		{0, 99, httpcore.BodyFile},
		{100, 99, httpcore.BodyMapped},
		{100, 100, httpcore.BodyFile},
		{100, 101, httpcore.BodyFile},
		{101, 100, httpcore.BodyMapped},
	} {
		c := newCore(t, httpcore.Config{Root: root, SendFile: true, SendFileMin: tt.min})
		r := do(t, c, get("/f"+strconv.Itoa(tt.size)))
		if r.kind != tt.want || len(r.body) != tt.size {
			t.Errorf("SendFileMin %d, a %d-byte file: got kind %v and %d body bytes, want kind %v and %d", tt.min, tt.size, r.kind, len(r.body), tt.want, tt.size)
		}
	}
}
