package evloop_test

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/httpcore"
	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/stats"
)

// TestTruncatedUnleased truncates a big file while its mapped body is
// being sent to a stalled client, on a core that takes no leases (as
// when the server may not lease the files: not their owner, without
// CAP_LEASE): the writev of pages past the new end fails with EFAULT,
// which must end that response only (short body), count an efault
// error, and leave the loop serving.
func TestTruncatedUnleased(t *testing.T) {
	const size = 8 << 20
	root := t.TempDir()
	small := conformance.Pattern(500, 3)
	for name, b := range map[string][]byte{"big.bin": conformance.Pattern(size, 7), "small.txt": small} {
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	core, err := httpcore.New(httpcore.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	lfd, addr, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st := stats.New()
	l, err := evloop.New(lfd, core, nil, httpconn.ServeOptions{Stats: st})
	if err != nil {
		t.Fatal(err)
	}
	runLoop(t, l, lfd)

	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	slow, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.SetDeadline(time.Now().Add(conformance.Timeout))
	io.WriteString(slow, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReaderSize(slow, 4096)
	if _, err := r.Peek(1); err != nil {
		t.Fatalf("first byte of the response: %v", err)
	}
	if err := os.Truncate(filepath.Join(root, "big.bin"), 0); err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, r)
	if n >= size {
		t.Errorf("truncated response: got %d bytes with the header, want fewer than the %d of the body", n, size)
	}
	if got := st.EFaultErrors.Load(); got != 1 {
		t.Errorf("efault errors: got %d, want 1", got)
	}
	if got, want := getBody(t, addr, "/small.txt"), small; string(got) != string(want) {
		t.Errorf("after EFAULT: got %d bytes of small.txt, want its %d", len(got), len(want))
	}
}
