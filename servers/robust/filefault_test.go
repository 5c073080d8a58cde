package robust_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"flashbench/servers/httpcore"
	"flashbench/servers/httpcore/conformance"
)

// Sizes big.bin is cut to while being served: at a page boundary, and
// inside its last page, well ahead of anything the server can have sent
// (what the client read plus both socket buffers: at most 4 MiB of send
// buffer here). The rest of that page then reads as zeros through a
// mapping, and no page past it faults, so a writev that goes on sending
// from the mapping copies the zeros.
const (
	truncatedSize = 1 << 20
	midPageSize   = bigSize - 1000
)

// replacement is the content renamed over big.bin while it is served.
var replacement = conformance.Pattern(bigSize/2, 9)

// fileFault changes big.bin under a download; want is what a request made
// afterwards must get (nil: 404).
type fileFault struct {
	name  string
	apply func(t *testing.T, path string)
	want  []byte
}

// fileFaults are the ways a served file changes under the server.
var fileFaults = []fileFault{
	{"truncated", func(t *testing.T, path string) {
		if err := os.Truncate(path, truncatedSize); err != nil {
			t.Fatal(err)
		}
	}, bigFile[:truncatedSize]},
	{"truncated-mid-page", func(t *testing.T, path string) {
		if err := os.Truncate(path, midPageSize); err != nil {
			t.Fatal(err)
		}
	}, bigFile[:midPageSize]},
	{"replaced", func(t *testing.T, path string) {
		tmp := filepath.Join(filepath.Dir(path), ".big.bin.new")
		if err := os.WriteFile(tmp, replacement, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}, replacement},
	{"deleted", func(t *testing.T, path string) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}, nil},
}

// fileFaultCases are big.bin truncated, replaced or deleted while a slow
// client downloads it (from the mapped-file cache or with sendfile,
// depending on the architecture). Every architecture holds a read lease
// on the files it sends, so the truncate waits until the server has
// stopped the download: at once for a mapped body (writev copied what it
// sent), and for flashlite's sendfile once the data in flight is drained
// (the client here reads on only once its truncate returns, so that
// waits the server's write timeout, after which the server drops what
// its socket still holds and lets it go).
func fileFaultCases() []robustCase {
	var cs []robustCase
	for _, f := range fileFaults {
		cs = append(cs, robustCase{name: "file-" + f.name, run: func(t *testing.T, e *env) { testFileFault(t, e, f) }})
	}
	return cs
}

// testFileFault starts a download of big.bin, reads part of it slowly,
// applies the fault, and reads the rest. The body must be a prefix of
// the original (never longer, never padded, never mixed with the new
// content); a short body must end with the connection closed; the server
// must survive, and a new request must get the file as it is now.
func testFileFault(t *testing.T, e *env, f fileFault) {
	path := filepath.Join(e.root, "big.bin")
	c := dial(t, e.addr())
	setRcvBuf(t, c, 32<<10)
	if _, err := c.Write([]byte(get1("/big.bin"))); err != nil {
		t.Fatalf("write request: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	br := bufio.NewReaderSize(c, 4<<10)
	status, length, err := readHead(br)
	if err != nil || status != 200 || length != bigSize {
		t.Fatalf("GET /big.bin: got %d, length %d, %v; want 200, %d", status, length, err, bigSize)
	}
	body := make([]byte, bigSize)
	got := 0
	for got < 256<<10 { // a slow start: the server is mid-file when the fault hits
		n, err := br.Read(body[got : got+4<<10])
		if err != nil {
			t.Fatalf("read the first part of the body: %v after %d bytes", err, got)
		}
		got += n
		time.Sleep(time.Millisecond)
	}
	f.apply(t, path)
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	n, err := io.ReadFull(br, body[got:])
	got += n
	switch {
	case err == nil:
		t.Logf("%s: the whole %d-byte body arrived (the server held the old file)", f.name, got)
	case errors.Is(err, io.ErrUnexpectedEOF) || isClosed(err):
		t.Logf("%s: short body of %d of %d bytes, then close", f.name, got, bigSize)
	default:
		t.Errorf("%s: after %d of %d bytes: %v, want the rest of the body or the connection closed", f.name, got, bigSize, err)
	}
	if ok, at := isPrefix(body[:got], bigFile); !ok {
		t.Errorf("%s: body departs from the original at byte %d of %d received: %s", f.name, at, got, describe(body[at:got]))
	}
	select {
	case <-e.srv.Done():
		t.Fatalf("%s: server exited; stderr: %s", f.name, e.srv.Stderr())
	default:
	}
	checkCurrent(t, e, f)
}

// checkCurrent checks that new requests get big.bin as it is now once the
// server's caches revalidate (httpcore.DefaultRevalidate: a cached
// translation may be that old by design; a response from a stale entry is
// cut short and closed, which the download above checks).
func checkCurrent(t *testing.T, e *env, f fileFault) {
	t.Helper()
	var err error
	current := func() bool {
		if f.want != nil {
			err = fetch(e.addr(), "/big.bin", f.want)
			return err == nil
		}
		var resp *conformance.Response
		if resp, err = roundTrip(e.addr(), get1("/big.bin"), false); err == nil && resp.Status != 404 {
			err = fmt.Errorf("got status %d, want 404", resp.Status)
		}
		return err == nil
	}
	if !waitFor(httpcore.DefaultRevalidate+3*time.Second, current) {
		t.Errorf("%s: next request, %v after the change: %v", f.name, httpcore.DefaultRevalidate+3*time.Second, err)
	}
	mustServe(t, e.addr(), f.name+": next request")
}

// describe says what a departing stretch of body is made of: zero
// padding, the replacement file, or other bytes.
func describe(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	switch {
	case zeros == len(b):
		return fmt.Sprintf("%d zero bytes (padding)", zeros)
	case zeros > 0:
		return fmt.Sprintf("%d zero bytes (padding), then %q", zeros, b[zeros:min(len(b), zeros+16)])
	}
	return fmt.Sprintf("%d bytes starting %q", len(b), b[:min(len(b), 16)])
}
