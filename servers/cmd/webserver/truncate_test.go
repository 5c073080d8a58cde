package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
)

// TestTruncatedMapping truncates a big file inside its last page while
// its mapped body is being sent to a stalled client, on an event loop
// (sped, uring) and on the blocking loop (threaded). Through the mapping the
// rest of that page reads as zeros, so a server that went on sending
// would pad the body with them. The read lease the server holds makes
// the truncate wait until the server stops that response: the client
// must get a prefix of the original, short, then the end of the
// connection; the stats must count the lease break; and the server must
// serve on. (Without a lease, the EFAULT path: evloop's
// TestTruncatedUnleased and connloop's serve tests.)
func TestTruncatedMapping(t *testing.T) {
	for _, arch := range []string{"sped", "uring", "threaded"} {
		t.Run(arch, func(t *testing.T) { testTruncatedMapping(t, arch) })
	}
}

func testTruncatedMapping(t *testing.T, arch string) {
	const size = 8 << 20
	root, big := bigRoot(t, size)
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	s := startServer(t, "--arch", arch, "--root", root, "--stats-file", statsFile)
	slow := dialSmallRcvbuf(t, s.addr)
	io.WriteString(slow, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReaderSize(slow, 4096)
	slow.SetReadDeadline(time.Now().Add(conformance.Timeout))
	resp, err := readResponse(r, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(root, "big.bin"), size-1000); err != nil {
		t.Fatal(err)
	}
	slow.SetReadDeadline(time.Now().Add(4 * conformance.Timeout))
	var body bytes.Buffer
	body.Write(resp.body)
	io.Copy(&body, r)
	if n := body.Len(); resp.status != 200 || n >= size-1000 {
		t.Errorf("truncated response: got status %d and %d body bytes, want 200 and fewer than %d", resp.status, n, size-1000)
	}
	if got := body.Bytes(); !bytes.Equal(got, big[:min(len(got), len(big))]) {
		t.Errorf("truncated response: the %d body bytes are not a prefix of the original (first difference at %d)", len(got), firstDifference(got, big))
	}
	other := dial(t, s.addr)
	if got := get(t, other, bufio.NewReader(other), "/small.txt"); got.status != 200 {
		t.Errorf("after the truncation: got status %d, want 200", got.status)
	}
	other.Close() // threaded waits for idle keep-alive connections at shutdown
	if err := s.stop(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
	data, err := os.ReadFile(statsFile)
	if err != nil {
		t.Fatal(err)
	}
	var snap struct {
		Errors map[string]uint64 `json:"errors"`
		Leases map[string]uint64 `json:"leases"`
	}
	if err := json.Unmarshal(data, &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Leases["breaks"] != 1 || snap.Errors["efault"] != 0 {
		t.Errorf("stats: got leases %v, errors %v; want 1 lease break and no efault", snap.Leases, snap.Errors)
	}
}

// firstDifference returns the first index where got departs from want.
func firstDifference(got, want []byte) int {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return i
		}
	}
	return min(len(got), len(want))
}
