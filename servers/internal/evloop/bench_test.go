package evloop_test

import (
	"bytes"
	"net"
	"testing"
	"time"

	"flashbench/servers/httpcore"
	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
)

// BenchmarkLoop measures keep-alive requests of a 500 B file through the
// loop, client in the same process; allocs/op covers both sides.
func BenchmarkLoop(b *testing.B) {
	root := conformance.Docroot(b)
	core, err := httpcore.New(httpcore.Config{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	defer core.Close()
	lfd, addr, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	l, err := evloop.New(lfd, core, nil, httpconn.ServeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	defer func() { l.Shutdown(time.Second); <-done }()
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
