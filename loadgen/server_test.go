package loadgen_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testServer is a net/http server on loopback that counts the requests it
// answers: /size/N answers N bytes, /slow/N sleeps N ms before every
// answer, /stall sleeps once for stall, and /close declares a body it
// never finishes.
type testServer struct {
	URL      string
	requests atomic.Int64
	stalled  atomic.Bool
	stall    time.Duration
	srv      *http.Server
}

func startServer(t *testing.T, stall time.Duration) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{URL: "http://" + ln.Addr().String(), stall: stall}
	ts.srv = &http.Server{Handler: http.HandlerFunc(ts.serve)}
	go ts.srv.Serve(ln)
	t.Cleanup(func() { ts.srv.Close() })
	return ts
}

func (ts *testServer) serve(w http.ResponseWriter, r *http.Request) {
	ts.requests.Add(1)
	switch {
	case strings.HasPrefix(r.URL.Path, "/size/"):
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/size/"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(bytes.Repeat([]byte{'x'}, n))
	case strings.HasPrefix(r.URL.Path, "/slow/"):
		ms, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/slow/"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		w.Write([]byte("ok"))
	case r.URL.Path == "/stall":
		if ts.requests.Load() > 20 && ts.stalled.CompareAndSwap(false, true) {
			time.Sleep(ts.stall)
		}
		w.Write([]byte("ok"))
	case r.URL.Path == "/close":
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	case r.URL.Path == "/missing":
		http.NotFound(w, r)
	default:
		w.Write([]byte("hello"))
	}
}

// nginx is a real nginx serving dir on a free loopback port, logging every
// request to its access log.
type nginx struct {
	URL  string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
}

func startNginx(t testing.TB, files map[string]int) *nginx {
	t.Helper()
	www := t.TempDir()
	for name, size := range files {
		if err := os.WriteFile(filepath.Join(www, name), bytes.Repeat([]byte{'n'}, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return startNginxDir(t, www)
}

// startNginxDir starts nginx with www as its document root.
func startNginxDir(t testing.TB, www string) *nginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not installed (.ci/run installs it): ", err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	port := freePort(t)
	conf := fmt.Sprintf(`worker_processes 1;
error_log %[1]s/logs/error.log;
pid %[1]s/nginx.pid;
events { worker_connections 4096; }
http {
  access_log %[1]s/logs/access.log;
  client_body_temp_path %[1]s/tmp;
  proxy_temp_path %[1]s/tmp;
  fastcgi_temp_path %[1]s/tmp;
  uwsgi_temp_path %[1]s/tmp;
  scgi_temp_path %[1]s/tmp;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:%[2]d; root %[3]s; }
}
`, dir, port, www)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-g", "daemon off; master_process off;")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ng := &nginx{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(ng.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-ng.done
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("nginx did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ng.URL, ng.log = "http://"+addr, filepath.Join(dir, "logs", "access.log")
	return ng
}

// nginxExit bounds nginx's graceful exit, which takes milliseconds; a
// process still there after it is stuck.
const nginxExit = 10 * time.Second

// requests stops nginx and returns the number of requests in its access
// log. nginx writes a request's line after the response's last byte has
// gone out, so a client can have read every response while lines are still
// to come, for as long as nginx is not scheduled. Once nginx has exited
// (SIGQUIT: close the listener and the idle connections, then exit), every
// request it finished is in the log, and the count is final.
func (n *nginx) requests(t testing.TB) int64 {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatalf("stop nginx: %v", err)
	}
	select {
	case <-n.done:
	case <-time.After(nginxExit):
		t.Fatalf("nginx still running %v after SIGQUIT, want it exited", nginxExit)
	}
	f, err := os.Open(n.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", n.log, err)
	}
	return lines
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
