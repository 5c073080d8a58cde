package httpcore_test

import (
	"bytes"
	"testing"

	"flashbench/servers/httpcore"
)

// BenchmarkRespond is the steady state of a keep-alive connection asking
// for a cached 500 B file: parse, respond, release. It must not allocate.
func BenchmarkRespond(b *testing.B) {
	root := b.TempDir()
	writeFile(b, root, "dir00001/class0_4", bytes.Repeat([]byte("x"), 500))
	c := newCore(b, httpcore.Config{Root: root})
	in := []byte("GET /dir00001/class0_4 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: loadgen\r\n\r\n")
	var (
		parser httpcore.Parser
		req    httpcore.Request
		plan   httpcore.Plan
	)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parser.Parse(in, &req); err != nil {
			b.Fatal(err)
		}
		c.Respond(&req, &plan)
		if plan.Status != 200 || plan.Length != 500 {
			b.Fatalf("got status %d length %d, want 200 500", plan.Status, plan.Length)
		}
		plan.Release()
	}
}

// BenchmarkRespondCaches is the Flash paper's cache ablation on one
// cached 500 B file, and the sendfile body plan.
func BenchmarkRespondCaches(b *testing.B) {
	root := b.TempDir()
	writeFile(b, root, "dir00001/class0_4", bytes.Repeat([]byte("x"), 500))
	for _, bc := range []struct {
		name string
		cfg  httpcore.Config
	}{
		{"all", httpcore.Config{}},
		{"no-path", httpcore.Config{NoPathCache: true}},
		{"no-header", httpcore.Config{NoHeaderCache: true}},
		{"no-mmap", httpcore.Config{NoMmapCache: true}},
		{"none", httpcore.Config{NoPathCache: true, NoHeaderCache: true, NoMmapCache: true}},
		{"sendfile", httpcore.Config{SendFile: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.cfg.Root = root
			c := newCore(b, bc.cfg)
			req := get("/dir00001/class0_4")
			var plan httpcore.Plan
			b.ReportAllocs()
			for b.Loop() {
				c.Respond(req, &plan)
				if plan.Status != 200 {
					b.Fatalf("got status %d, want 200", plan.Status)
				}
				plan.Release()
			}
		})
	}
}
