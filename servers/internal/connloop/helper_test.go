package connloop_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/connloop"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
)

// Environment of the re-executed server process.
const (
	envHelper   = "CONNLOOP_TEST_HELPER"
	envRoot     = "CONNLOOP_TEST_ROOT"
	envSendFile = "CONNLOOP_TEST_SENDFILE"
	envNoCaches = "CONNLOOP_TEST_NO_CACHES" // any of "path", "header", "mmap"
	envHeader   = "CONNLOOP_TEST_HEADER_TIMEOUT"
	envIdle     = "CONNLOOP_TEST_IDLE_TIMEOUT"
	envHoldP    = "CONNLOOP_TEST_HOLD_P" // one worker with Options.HoldP, GOMAXPROCS=1: a prefork worker
)

// TestHelperProcess is not a test: it is the server process the tests
// start by re-executing the test binary. It serves the root in envRoot on
// 127.0.0.1 with several ServeListener loops, prints "port N", and exits
// on SIGTERM.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		t.Skip("runs only as the re-executed server process")
	}
	if err := runHelper(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runHelper is the server process's main.
func runHelper() error {
	noCaches := os.Getenv(envNoCaches)
	core, err := httpcore.New(httpcore.Config{
		Root:          os.Getenv(envRoot),
		NoPathCache:   strings.Contains(noCaches, "path"),
		NoHeaderCache: strings.Contains(noCaches, "header"),
		NoMmapCache:   strings.Contains(noCaches, "mmap"),
		SendFile:      os.Getenv(envSendFile) == "1",
	})
	if err != nil {
		return err
	}
	defer core.Close()
	opts := connloop.Options{
		ServeOptions: httpconn.ServeOptions{HeaderTimeout: envDuration(envHeader), IdleTimeout: envDuration(envIdle)},
		OnError:      func(err error) { fmt.Fprintln(os.Stderr, "connection:", err) },
		HoldP:        os.Getenv(envHoldP) == "1",
	}
	workers := 4 // like a small prefork pool: one blocked thread per connection
	if opts.HoldP {
		runtime.GOMAXPROCS(1) // a prefork worker: its signals wait for the loop's preemption
		workers = 1
	}
	lfd, port, err := openListener()
	if err != nil {
		return err
	}
	defer unix.Close(lfd)
	acc, err := listen.NewAcceptor(lfd, listen.Options{Blocking: true})
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() { <-sigs; close(stop) }()
	fmt.Printf("port %d\n", port)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			runtime.LockOSThread()
			errs <- connloop.ServeListener(acc, core, opts, stop)
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func envDuration(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

// openListener opens a blocking TCP listener on 127.0.0.1 and an ephemeral port.
func openListener() (fd, port int, err error) {
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, os.NewSyscallError("socket", err)
	}
	if err = unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err == nil {
		err = unix.Listen(fd, 128)
	}
	var sa unix.Sockaddr
	if err == nil {
		sa, err = unix.Getsockname(fd)
	}
	if err != nil {
		unix.Close(fd)
		return -1, 0, os.NewSyscallError("listen", err)
	}
	return fd, sa.(*unix.SockaddrInet4).Port, nil
}

// lockedBuffer collects the child's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServer re-executes the test binary as a server on root with the
// extra environment, and returns its address. The process is stopped with
// SIGTERM (killed if it lingers) and reaped when the test ends; its stderr
// is logged.
func startServer(t *testing.T, root string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(append(os.Environ(), envHelper+"=1", envRoot+"="+root), env...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server process: %v", err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server process: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("server process ignored SIGTERM for 10s; killed")
		}
		if s := stderr.String(); s != "" {
			t.Logf("server stderr:\n%s", s)
		}
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "port "); ok {
				port <- p
			}
		}
		done <- cmd.Wait()
	}()
	select {
	case p := <-port:
		if _, err := strconv.Atoi(p); err != nil {
			t.Fatalf("server printed port %q", p)
		}
		return "127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		t.Fatalf("server process printed no port within 30s; stderr: %s", stderr.String())
	}
	return ""
}
