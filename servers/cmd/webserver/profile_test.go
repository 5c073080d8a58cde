package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"flashbench/servers/httpcore/conformance"
)

// TestCPUProfile checks that --cpu-profile leaves a pprof CPU profile
// behind once the server exits: gzip-compressed protobuf whose string
// table names the sample type.
func TestCPUProfile(t *testing.T) {
	root := conformance.Docroot(t)
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	s := startServer(t, "--arch", "sped", "--root", root, "--cpu-profile", path)
	for range 20 {
		c := dial(t, s.addr)
		io.WriteString(c, "GET /500b.txt HTTP/1.0\r\n\r\n")
		if r, err := readResponse(bufio.NewReader(c), false); err != nil || r.status != 200 {
			t.Fatalf("GET /500b.txt: got %v, %v; want status 200", r, err)
		}
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("profile of %d bytes: %v", len(data), err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	for _, want := range []string{"samples", "cpu", "nanoseconds"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("profile of %d bytes: no %q in it", len(raw), want)
		}
	}
}
