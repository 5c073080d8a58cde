package connloop_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/connloop"
	"flashbench/servers/internal/listen"
)

// served is one connection served in-process by Serve.
type served struct {
	addr string
	tid  chan int   // the serving thread, for signals
	err  chan error // what Serve returned
}

// serveOne serves exactly one connection with Serve on a thread of this
// process. sndbuf, when positive, shrinks the server's send buffer so that
// a large body stays mostly unsent while the client waits.
func serveOne(t *testing.T, root string, sendFile bool, sndbuf int) *served {
	t.Helper()
	core, err := httpcore.New(httpcore.Config{Root: root, SendFile: sendFile})
	if err != nil {
		t.Fatal(err)
	}
	lfd, port, err := openListener()
	if err != nil {
		t.Fatal(err)
	}
	s := &served{addr: "127.0.0.1:" + strconv.Itoa(port), tid: make(chan int, 1), err: make(chan error, 1)}
	go func() {
		runtime.LockOSThread()
		s.tid <- unix.Gettid()
		fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
		if err != nil {
			s.err <- err
			return
		}
		if sndbuf > 0 {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sndbuf)
		}
		s.err <- connloop.Serve(fd, core, connloop.Options{})
		unix.Close(fd)
	}()
	t.Cleanup(func() {
		unix.Close(lfd)
		core.Close()
	})
	return s
}

// result waits for Serve to return.
func (s *served) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.err:
		return err
	case <-time.After(2 * conformance.Timeout):
		t.Fatalf("Serve did not return within %v", 2*conformance.Timeout)
		return nil
	}
}

// TestServeResult checks what Serve returns when a connection ends.
func TestServeResult(t *testing.T) {
	root := conformance.Docroot(t)
	tests := []struct {
		name, send string
		read       bool  // read the answer before closing
		want       error // nil, or what the error must wrap
	}{
		{name: "empty-connection", send: "", want: nil},
		{name: "request-then-close", send: "GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n", read: true, want: nil},
		{name: "refused-request", send: "BAD\r\n\r\n", read: true, want: nil},
		{name: "closed-mid-request", send: "GET /no", want: io.ErrUnexpectedEOF},
		{name: "closed-mid-body", send: "GET /notes.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc", read: true,
			want: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serveOne(t, root, false, 0)
			conn := dial(t, s.addr)
			conn.Write([]byte(tt.send))
			if tt.read {
				conn.SetReadDeadline(time.Now().Add(conformance.Timeout))
				if _, err := conformance.ReadResponse(bufio.NewReader(conn), false); err != nil {
					t.Fatalf("read response: %v", err)
				}
			}
			conn.Close()
			err := s.result(t)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("after %q: got Serve error %v, want %v", tt.send, err, tt.want)
			}
		})
	}
}

// TestServeSignals interrupts the serving thread with signals while it
// blocks writing a large body to a slow reader: every interrupted writev,
// sendmsg or sendfile (partial count or EINTR) must be resumed exactly.
func TestServeSignals(t *testing.T) {
	for _, sendFile := range []bool{false, true} {
		t.Run("sendfile="+strconv.FormatBool(sendFile), func(t *testing.T) {
			root, big := bigRoot(t)
			s := serveOne(t, root, sendFile, 64<<10)
			tid := <-s.tid
			conn := dial(t, s.addr)
			conn.Write([]byte("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /500b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
			stop := make(chan struct{})
			defer close(stop)
			go func() { // SIGURG is the runtime's own preemption signal: harmless
				for {
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Microsecond):
						unix.Tgkill(unix.Getpid(), tid, unix.SIGURG)
					}
				}
			}()
			br := bufio.NewReaderSize(&slowReader{r: conn, conn: conn}, 4096)
			resp, err := conformance.ReadResponse(br, false)
			if err != nil {
				t.Fatalf("big response: %v", err)
			}
			if !bytes.Equal(resp.Body, big) {
				t.Fatalf("got %d bytes (first difference at %d), want the %d bytes of big.bin", len(resp.Body), firstDiff(resp.Body, big), len(big))
			}
			if resp, err = conformance.ReadResponse(br, false); err != nil || resp.Status != 200 {
				t.Fatalf("second response: %v", err)
			}
			if err := s.result(t); err != nil {
				t.Errorf("got Serve error %v, want nil", err)
			}
		})
	}
}

// TestServeBrokenConnection ends the transfer of a large body from the
// client side (reset) and from the file side (truncated under the
// mapping or under sendfile): Serve must return an error, not crash.
func TestServeBrokenConnection(t *testing.T) {
	tests := []struct {
		name     string
		sendFile bool
		truncate bool
		want     error
	}{
		{"reset-writev", false, false, nil},
		{"reset-sendfile", true, false, nil},
		{"truncated-mapping", false, true, unix.EFAULT},
		{"truncated-sendfile", true, true, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, _ := bigRoot(t)
			s := serveOne(t, root, tt.sendFile, 64<<10)
			conn := dial(t, s.addr)
			conn.Write([]byte("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"))
			conn.SetReadDeadline(time.Now().Add(conformance.Timeout))
			if _, err := io.ReadFull(conn, make([]byte, 256<<10)); err != nil {
				t.Fatalf("read the start of the body: %v", err)
			}
			if tt.truncate {
				if err := os.Truncate(filepath.Join(root, "big.bin"), 0); err != nil {
					t.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, conn)
				if n+256<<10 >= bigSize {
					t.Errorf("got the whole body from a file truncated during the transfer")
				}
			} else {
				conn.(*net.TCPConn).SetLinger(0) // close with a reset
				conn.Close()
			}
			err := s.result(t)
			if err == nil {
				t.Fatalf("got Serve error nil, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got Serve error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestServeListenerStops checks both ways out of ServeListener: stop
// closed, and the listening descriptor closed under it.
func TestServeListenerStops(t *testing.T) {
	root := conformance.Docroot(t)
	core, err := httpcore.New(httpcore.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	for _, how := range []string{"stop", "close"} {
		t.Run(how, func(t *testing.T) {
			lfd, port, err := openListener()
			if err != nil {
				t.Fatal(err)
			}
			acc, err := listen.NewAcceptor(lfd, listen.Options{Blocking: true})
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			done := make(chan error, 1)
			go func() { done <- connloop.ServeListener(acc, core, connloop.Options{}, stop) }()
			conn := dial(t, "127.0.0.1:"+strconv.Itoa(port)) // served before stopping
			conn.Write([]byte("GET /notes.txt HTTP/1.0\r\n\r\n"))
			conn.SetReadDeadline(time.Now().Add(conformance.Timeout))
			if resp, err := conformance.ReadResponse(bufio.NewReader(conn), false); err != nil || resp.Status != 200 {
				t.Fatalf("response before stopping: %v", err)
			}
			if how == "stop" {
				close(stop)
				defer unix.Close(lfd)
			} else {
				unix.Close(lfd)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("got ServeListener error %v, want nil", err)
				}
			case <-time.After(2 * conformance.Timeout):
				t.Fatalf("ServeListener still running %v after %s", 2*conformance.Timeout, how)
			}
		})
	}
}
