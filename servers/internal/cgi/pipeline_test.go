package cgi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"flashbench/cgi-apps/content"
)

// TestStalledResponses: responses wait, part sent, for clients that do
// not read yet, while their program answers other requests. A waiting
// body lies in the server's read buffer (over pipes, or inline when it
// does not fit the shared-memory pool) or in the program's pool (shared
// memory): neither may be reused before the body is sent. The first body
// is larger than the socket buffers, and more than its unsent part
// arrives from the program after it.
func TestStalledResponses(t *testing.T) {
	for _, arch := range []string{"amped", "flashlite", "uring"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			s, _ := start(t, "--arch", arch, "--cgi-procs", "1")
			// A small receive buffer, so that the responses cannot land whole
			// in the client's queue.
			d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
				rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
				return nil
			}}
			type stalled struct {
				br *bufio.Reader
				n  int
			}
			var waiting []stalled
			for i := range 41 {
				n := 150000 + 1000*i
				if i == 0 {
					n = 12 << 20
				}
				c, err := d.Dial("tcp", s.Addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second))
				if _, err := fmt.Fprintf(c, "GET /cgi-bin/helper?size=%d HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", n); err != nil {
					t.Fatal(err)
				}
				br := bufio.NewReaderSize(c, 16)
				if _, err := br.Peek(1); err != nil { // the response is on its way
					t.Fatal(err)
				}
				waiting = append(waiting, stalled{br, n})
			}
			for i, n := range []int{51200, 4 << 20, 300000, 4 << 20, 1000, 4 << 20, 65536, 250000} {
				r, err := do(s.Addr, "GET", "/cgi-bin/helper?size="+strconv.Itoa(n), nil, "")
				if err != nil || r.status != 200 || !bytes.Equal(r.body, content.Dyn(n)) {
					t.Fatalf("request %d (size %d) while the others wait: got %d, %d bytes, %v", i, n, r.status, len(r.body), err)
				}
			}
			for _, w := range waiting {
				req, _ := http.NewRequest("GET", "http://t/", nil)
				resp, err := http.ReadResponse(bufio.NewReader(w.br), req)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !bytes.Equal(got, content.Dyn(w.n)) {
					t.Errorf("stalled response of %d bytes: got %d bytes (exact %v), %v", w.n, len(got), bytes.Equal(got, content.Dyn(w.n)), err)
				}
			}
		})
	}
}

// TestPipelined: with one process per program, concurrent requests queue
// up in it (more than it may hold wait in the server) and are answered
// in order, each with its own body; the process count stays one.
func TestPipelined(t *testing.T) {
	for _, arch := range []string{"amped", "flashlite", "uring"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			statsFile := filepath.Join(t.TempDir(), "stats.json")
			s, _ := start(t, "--arch", arch, "--cgi-procs", "1", "--stats-file", statsFile)
			const clients, each = 24, 6
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						n := 1000*c + 37*i + 1
						target := "/cgi-bin/helper?delay=1ms&size=" + strconv.Itoa(n)
						if i%2 == 1 {
							target += "&cache=1"
						}
						r, err := do(s.Addr, "GET", target, nil, "")
						if err != nil || r.status != 200 || !bytes.Equal(r.body, content.Dyn(n)) {
							errs <- fmt.Errorf("%s: got %d, %d bytes, %v", target, r.status, len(r.body), err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if err := s.Stop(30 * time.Second); err != nil {
				t.Fatalf("stop: %v", err)
			}
			var snap struct {
				CGI struct {
					Spawned  uint64 `json:"processes_spawned"`
					Requests uint64 `json:"requests"`
				} `json:"cgi"`
			}
			readStats(t, statsFile, &snap)
			if snap.CGI.Spawned != 1 || snap.CGI.Requests != clients*each {
				t.Errorf("got %d processes spawned for %d requests, want 1 for %d", snap.CGI.Spawned, snap.CGI.Requests, clients*each)
			}
		})
	}
}

// TestHeldBehindHang: requests queued in a process behind one that hangs
// share its fate when it is killed, but for the idempotent ones, which
// run again on a new process.
func TestHeldBehindHang(t *testing.T) {
	for _, arch := range []string{"amped", "uring"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			heldBehindHang(t, arch)
		})
	}
}

func heldBehindHang(t *testing.T, arch string) {
	s, _ := start(t, "--arch", arch, "--cgi-procs", "1", "--cgi-timeout", "3s")
	type result struct {
		r   response
		err error
	}
	send := func(method, target string, body []byte) chan result {
		ch := make(chan result, 1)
		go func() {
			r, err := do(s.Addr, method, target, body, "")
			ch <- result{r, err}
		}()
		time.Sleep(200 * time.Millisecond) // the server takes them in this order
		return ch
	}
	hung := send("GET", "/cgi-bin/helper?hang=1", nil)
	get := send("GET", "/cgi-bin/helper?size=100", nil)
	post := send("POST", "/cgi-bin/helper", []byte("posted"))
	if r := <-hung; r.err != nil || r.r.status != 504 {
		t.Errorf("hung request: got %d, %v; want 504", r.r.status, r.err)
	}
	if r := <-get; r.err != nil || r.r.status != 200 || !bytes.Equal(r.r.body, content.Dyn(100)) {
		t.Errorf("GET held behind it: got %d, %d bytes, %v; want 200 and its body from a new process", r.r.status, len(r.r.body), r.err)
	}
	if r := <-post; r.err != nil || r.r.status != 504 {
		t.Errorf("POST held behind it: got %d, %v; want 504 (not run twice)", r.r.status, r.err)
	}
	waitNoZombies(t, s.Pid())
}

// TestReadBuffersReused checks that the read buffers of pipe responses
// are reused once the loop is warm: many keep-alive clients fetching 200
// KB responses at once make about one buffer per response in flight, not
// one per response. A response pins its buffer until its send completes;
// the clients wait a little before they read, so that every response is
// in flight at once, more than the socket buffers hold, and the buffers
// come back together. It catches a buffer made per response; the milder
// churn of too small a pool of spares (8: on the ring under a CPU quota,
// where a send completes a turn later, a fresh buffer for most 200 KB
// responses) shows here only as 33 buffers instead of 18.
func TestReadBuffersReused(t *testing.T) {
	for _, arch := range []string{"sped", "uring"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			statsFile := filepath.Join(t.TempDir(), "stats.json")
			s, _ := start(t, "--arch", arch, "--stats-file", statsFile)
			const clients, each, size = 32, 25, 204800
			want := content.Dyn(size)
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := keepAliveGets(s.Addr, "/cgi-bin/dyn?size="+strconv.Itoa(size), want, each); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if err := s.Stop(30 * time.Second); err != nil {
				t.Fatalf("stop: %v", err)
			}
			var snap struct {
				CGI struct {
					Requests    uint64 `json:"requests"`
					ReadBuffers uint64 `json:"read_buffers_made"`
				} `json:"cgi"`
			}
			readStats(t, statsFile, &snap)
			t.Logf("%d read buffers made for %d responses", snap.CGI.ReadBuffers, snap.CGI.Requests)
			if snap.CGI.Requests != clients*each || snap.CGI.ReadBuffers == 0 || snap.CGI.ReadBuffers > 2*clients {
				t.Errorf("%d responses of %d bytes to %d clients: got %d read buffers made for %d requests; want 1 to %d",
					clients*each, size, clients, snap.CGI.ReadBuffers, snap.CGI.Requests, 2*clients)
			}
		})
	}
}

// readDelay is how long keepAliveGets waits between sending a request
// and reading its response.
const readDelay = 10 * time.Millisecond

// keepAliveGets gets target n times on one connection, reading each
// response readDelay after its request, and checks every body against
// want.
func keepAliveGets(addr, target string, want []byte, n int) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(c)
	for i := range n {
		if _, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
			return err
		}
		time.Sleep(readDelay)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return fmt.Errorf("%s, request %d: %w", target, i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(body, want) {
			return fmt.Errorf("%s, request %d: got %d, %d bytes, %v; want 200 and the pattern", target, i, resp.StatusCode, len(body), err)
		}
	}
	return nil
}
