package soak

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"flashbench/cgi-apps/content"
)

// fakeEnv, when set, makes the test binary a stand-in webserver: a small
// net/http server of the docroot and the CGI programs' bodies, which
// misbehaves as its value says for its --arch ("sped=leak").
const fakeEnv = "FLASHBENCH_SOAK_FAKE"

// binDir holds the real webserver and CGI programs, built once.
var binDir string

func TestMain(m *testing.M) {
	if modes, ok := os.LookupEnv(fakeEnv); ok {
		if err := fakeServer(modes, os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "fake webserver:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "soak-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build puts webserver and the CGI programs into dir.
func build(dir string) error {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, b := range [][]string{
		{"-o", dir + "/", "flashbench/servers/cmd/..."},
		{"-o", filepath.Join(dir, "cgi-bin") + "/", "flashbench/cgi-apps/cmd/dyn", "flashbench/cgi-apps/cmd/adrot", "flashbench/cgi-apps/cmd/page"},
	} {
		if out, err := exec.Command(gobin, append([]string{"build"}, b...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("build %v: %v\n%s", b, err, out)
		}
	}
	return nil
}

// fakeBin makes a bin folder whose webserver is this test binary as a
// fake server with modes, and an empty cgi-bin.
func fakeBin(t *testing.T, modes string) string {
	t.Helper()
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\n%s=%q exec %q \"$@\"\n", fakeEnv, modes, exe)
	if err := os.WriteFile(filepath.Join(dir, "webserver"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "cgi-bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeServer serves like `webserver --arch A --root R --listen L`;
// in mode leak it opens /dev/null on every request and never closes it.
func fakeServer(modes string, args []string) error {
	flags := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		flags[strings.TrimPrefix(args[i], "--")] = args[i+1]
	}
	arch, root := flags["arch"], flags["root"]
	leak := strings.Contains(","+modes+",", ","+arch+"=leak,")
	ln, err := net.Listen("tcp", flags["listen"])
	if err != nil {
		return err
	}
	fmt.Printf("webserver: %s listening on %s\n", arch, ln.Addr())
	var mu sync.Mutex
	var leaked []*os.File
	files := http.FileServer(http.Dir(root))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f, err := os.Open(os.DevNull); err == nil && leak {
			mu.Lock()
			leaked = append(leaked, f)
			mu.Unlock()
		} else if err == nil {
			f.Close()
		}
		if body, ok := fakeCGI(r, root); ok {
			w.Write(body)
			return
		}
		files.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() {
		<-term
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx) // returns once the requests in flight are done
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-done
}

// fakeCGI answers the CGI programs' requests with their bodies.
func fakeCGI(r *http.Request, root string) ([]byte, bool) {
	q := r.URL.Query()
	switch r.URL.Path {
	case "/cgi-bin/dyn":
		n, err := strconv.Atoi(q.Get("size"))
		return content.Dyn(n), err == nil
	case "/cgi-bin/adrot":
		return content.AdPage(q.Get("user")), true
	case "/cgi-bin/page":
		data, err := os.ReadFile(filepath.Join(root, filepath.Clean("/"+q.Get("file"))))
		return content.Page(q.Get("file"), data), err == nil
	}
	return nil, false
}
