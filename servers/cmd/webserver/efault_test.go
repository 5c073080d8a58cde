package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
)

// TestTruncatedMapping truncates a big file while its mapped body is
// being sent to a stalled client: the writev of pages past the new end
// fails with EFAULT, which must close that connection only (short body),
// count an efault error, and leave the server serving.
func TestTruncatedMapping(t *testing.T) {
	root, big := bigRoot(t, 8<<20)
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	s := startServer(t, "--arch", "sped", "--root", root, "--stats-file", statsFile)
	slow := dialSmallRcvbuf(t, s.addr)
	io.WriteString(slow, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReaderSize(slow, 4096)
	slow.SetReadDeadline(time.Now().Add(conformance.Timeout))
	resp, err := readResponse(r, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(root, "big.bin"), 0); err != nil {
		t.Fatal(err)
	}
	slow.SetReadDeadline(time.Now().Add(4 * conformance.Timeout))
	n, _ := io.Copy(io.Discard, r)
	if resp.status != 200 || n >= int64(len(big)) {
		t.Errorf("truncated response: got status %d and %d body bytes, want 200 and fewer than %d", resp.status, n, len(big))
	}
	other := dial(t, s.addr)
	if got := get(t, other, bufio.NewReader(other), "/small.txt"); got.status != 200 {
		t.Errorf("after EFAULT: got status %d, want 200", got.status)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
	data, err := os.ReadFile(statsFile)
	if err != nil {
		t.Fatal(err)
	}
	var snap struct {
		Errors map[string]uint64 `json:"errors"`
	}
	if err := json.Unmarshal(data, &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Errors["efault"] != 1 {
		t.Errorf("errors: got %v, want efault 1", snap.Errors)
	}
}
