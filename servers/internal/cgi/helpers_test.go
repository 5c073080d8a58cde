package cgi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"flashbench/cgi-apps/app"
	"flashbench/cgi-apps/content"
	"flashbench/servers/internal/webtest"
)

func TestMain(m *testing.M) {
	if os.Getenv("FLASHBENCH_CGI_TEST_HELPER") == "1" {
		helperMain()
		return
	}
	webtest.Main(m)
}

// helperMain is the test program `helper`: the test binary re-executed
// as a persistent CGI program. It answers like dyn (size=N, POST echo),
// with a body written for this response alone, or kept and handed out
// again like dyn's (cache=1); on request it sleeps (delay=D), hangs
// (hang=1) or dies (crash=1).
func helperMain() {
	app.Main(func(req *app.Request, resp *app.Response) {
		if d, err := time.ParseDuration(req.Query("delay")); err == nil {
			time.Sleep(d)
		}
		switch {
		case req.Query("hang") == "1":
			select {}
		case req.Query("crash") == "1":
			os.Exit(3)
		case string(req.Method) == "POST":
			resp.ContentType = "application/octet-stream"
			resp.Write(req.Body)
			return
		}
		n, _ := strconv.Atoi(req.Query("size"))
		resp.ContentType = "text/plain"
		if req.Query("cache") == "1" {
			resp.Cached(strconv.Itoa(n), n, content.Fill)
			return
		}
		content.Fill(resp.Body(n))
	})
	os.Exit(0)
}

var (
	cgiOnce sync.Once
	cgiDirP string
	cgiErr  error
)

// cgiDir builds dyn and classic into a cgi-bin next to the webserver
// binary (removed with it) and adds the `helper` program.
func cgiDir(t *testing.T) string {
	t.Helper()
	cgiOnce.Do(func() {
		dir := filepath.Join(filepath.Dir(webtest.Binary), "cgi-bin")
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		out, err := exec.Command(gobin, "build", "-o", dir+"/", "flashbench/cgi-apps/cmd/dyn", "flashbench/cgi-apps/cmd/classic").CombinedOutput()
		if err != nil {
			cgiErr = fmt.Errorf("build cgi programs: %v\n%s", err, out)
			return
		}
		exe, err := os.Executable()
		if err != nil {
			cgiErr = err
			return
		}
		script := "#!/bin/sh\nFLASHBENCH_CGI_TEST_HELPER=1 exec " + exe + " -test.run=^$\n"
		cgiErr = os.WriteFile(filepath.Join(dir, "helper"), []byte(script), 0o755)
		if cgiErr == nil { // present but not executable: never run
			cgiErr = os.WriteFile(filepath.Join(dir, "noexec"), []byte(script), 0o644)
		}
		cgiDirP = dir
	})
	if cgiErr != nil {
		t.Fatal(cgiErr)
	}
	return cgiDirP
}

// start runs the webserver with the CGI directory and a document root
// holding one 50 KB file, f50k (returned).
func start(t *testing.T, args ...string) (*webtest.Server, []byte) {
	t.Helper()
	root := t.TempDir()
	static := content.Dyn(51200 + 7)
	if err := os.WriteFile(filepath.Join(root, "f50k"), static, 0o644); err != nil {
		t.Fatal(err)
	}
	args = append(args, "--root", root, "--cgi-dir", cgiDir(t))
	return webtest.Start(t, args...), static
}

// response is one raw exchange's outcome.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a raw request (header, then body in the background) on a new
// connection and reads the response.
func do(addr, method, target string, body []byte, extra string) (response, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return response{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	hdr := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s", method, target, extra)
	if body != nil {
		hdr += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	if _, err := io.WriteString(c, hdr+"\r\n"); err != nil {
		return response{}, err
	}
	go c.Write(body) // the server may answer (413) before reading it
	req, _ := http.NewRequest(method, "http://t"+target, nil)
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// proc is a process as /proc/PID/stat shows it.
type proc struct {
	pid         int
	comm, state string
}

// childrenOf lists pid's child processes, zombies included.
func childrenOf(t *testing.T, pid int) []proc {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []proc
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, not ")".
		s := string(b)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(s[j+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(e.Name())
			out = append(out, proc{pid: n, comm: s[i+1 : j], state: f[0]})
		}
	}
	return out
}

// zombies lists the zombie children of pid.
func zombies(t *testing.T, pid int) []string {
	t.Helper()
	var out []string
	for _, p := range childrenOf(t, pid) {
		if p.state == "Z" {
			out = append(out, strconv.Itoa(p.pid))
		}
	}
	return out
}

// children lists the pids of pid's children whose command line contains
// word.
func children(t *testing.T, pid int, word string) []int {
	t.Helper()
	var out []int
	for _, p := range childrenOf(t, pid) {
		cmd, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.pid), "cmdline"))
		if bytes.Contains(cmd, []byte(word)) {
			out = append(out, p.pid)
		}
	}
	return out
}

// slowReader sleeps before each small read, so that responses wait in
// the client's socket queue (and, on loopback, keep referencing the
// server's pages) for a while.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(2 * time.Millisecond)
	return s.r.Read(p[:min(len(p), 8192)])
}

// slowGet GETs target, reading the response slowly when slow is set.
func slowGet(addr, target string, slow bool) (response, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return response{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", target); err != nil {
		return response{}, err
	}
	var r io.Reader = c
	if slow {
		time.Sleep(20 * time.Millisecond) // let the whole response land in the receive queue first
		r = slowReader{c}
	}
	req, _ := http.NewRequest("GET", "http://t"+target, nil)
	resp, err := http.ReadResponse(bufio.NewReaderSize(r, 4096), req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// readStats decodes the stats file at path into v.
func readStats(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("stats file: %v\n%s", err, data)
	}
}
