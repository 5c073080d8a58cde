package main

import (
	"bytes"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/webtest"
)

// TestUringRefusedBySeccomp starts the uring architecture where the
// kernel refuses io_uring: under a seccomp filter that fails
// io_uring_setup with EPERM, as a container's may. The server must not
// listen, and must exit non-zero with one line that says why.
func TestUringRefusedBySeccomp(t *testing.T) {
	root := conformance.Docroot(t)
	cmd := exec.Command(webtest.Binary, "--arch", "uring", "--root", root, "--listen", "127.0.0.1:0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := startFiltered(cmd); err != nil {
		t.Fatalf("start under a seccomp filter: %v", err)
	}
	err := cmd.Wait()
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if err == nil || cmd.ProcessState.ExitCode() == 0 {
		t.Errorf("exit: got %v, want a non-zero status", err)
	}
	want := "webserver: uring: io_uring is unavailable: kernel.io_uring_disabled = 0, so a seccomp filter"
	if len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
		t.Errorf("stderr: got %q, want one line starting %q", stderr.String(), want)
	}
	if strings.Contains(stdout.String(), "listening") {
		t.Errorf("stdout: got %q, want no ready line from a server that cannot serve", stdout.String())
	}
}

// startFiltered starts cmd from a thread that installs a seccomp filter
// failing io_uring_setup with EPERM first: a forked child inherits its
// thread's filter. The thread is never given back to the runtime (its
// goroutine ends locked, so the thread exits with it).
func startFiltered(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no unlock: the filtered thread dies with the goroutine
		filter := []unix.SockFilter{
			{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_IO_URING_SETUP},
			{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
			{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		}
		prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			done <- err
			return
		}
		if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
			done <- err
			return
		}
		done <- cmd.Start()
	}()
	return <-done
}
