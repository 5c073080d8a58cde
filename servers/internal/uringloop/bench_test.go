package uringloop_test

import (
	"bytes"
	"net"
	"testing"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/httpconn"
)

// BenchmarkLoop measures keep-alive requests of a 500 B file through the
// loop, client in the same process; allocs/op covers both sides.
func BenchmarkLoop(b *testing.B) {
	root := conformance.Docroot(b)
	_, addr := newLoop(b, newCore(b, root), nil, httpconn.ServeOptions{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte("GET /500b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	resp := make([]byte, 4096)
	want := len(conformance.File("500b.txt"))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.Write(req)
		n, got := 0, 0
		for got == 0 || n < got {
			k, err := c.Read(resp[n:])
			if err != nil {
				b.Fatal(err)
			}
			n += k
			if i := bytes.Index(resp[:n], []byte("\r\n\r\n")); i >= 0 {
				got = i + 4 + want
			}
		}
	}
}
