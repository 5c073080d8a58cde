package harness

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/fileset"
	"flashbench/harness/topology"
)

// TestExternalsStartAndAnswer starts every real server with its generated
// configuration, in a CPU cgroup when the machine has a CPU controller,
// checks that its whole process tree is in the cgroup, verifies one file
// of each class through it and stops it.
func TestExternalsStartAndAnswer(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset not installed (apt-get install util-linux)")
	}
	topo, err := topology.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for d := root; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindSPECweb99, Dir: filepath.Join(root, "set"), Seed: 1, Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckReadable(filepath.Join(root, "set"), m); err != nil {
		t.Fatal(err)
	}
	for _, arch := range Externals {
		t.Run(arch, func(t *testing.T) {
			prog, err := lookupExternal(arch)
			if err != nil {
				t.Skipf("%v: the %s baseline is not tested", err, arch)
			}
			dir := filepath.Join(root, arch)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			log, err := os.Create(filepath.Join(dir, "server.log"))
			if err != nil {
				t.Fatal(err)
			}
			defer log.Close()
			sc := serverConfig{arch: arch, docroot: filepath.Join(root, "set"), dir: dir, log: log, maxConns: 64, startTimeout: 20 * time.Second}
			if _, err := CPUControllerVersion(); err == nil {
				if sc.cpu, err = NewCPUCgroup(fmt.Sprintf("%d-ext-%s", os.Getpid(), arch), 0.5); err != nil {
					t.Fatal(err)
				}
				defer sc.cpu.Remove()
			}
			s, err := startExternal(context.Background(), topo, prog, sc)
			if err != nil {
				t.Fatal(err)
			}
			if sc.cpu != nil {
				checkSessionIn(t, s.proc.PID(), sc.cpu)
			}
			verr := VerifyFiles(fmt.Sprintf("http://%s", s.addr), m, true)
			if err := s.stop(10 * time.Second); err != nil {
				t.Error(err)
			}
			if verr != nil {
				t.Errorf("verify: %v", verr)
			}
			// The group was sent SIGKILL; its members die in their own
			// time, within moments.
			left := runningInGroup(s.proc.PID())
			for deadline := time.Now().Add(5 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = runningInGroup(s.proc.PID()) {
				time.Sleep(10 * time.Millisecond)
			}
			if len(left) > 0 {
				t.Errorf("process group %d after stop: got processes %v running, want none", s.proc.PID(), left)
			}
		})
	}
}

func TestCheckReadable(t *testing.T) {
	root := t.TempDir()
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: filepath.Join(root, "set"), Seed: 1, SizeBytes: 10, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(root, 0o700)
	if err := CheckReadable(filepath.Join(root, "set"), m); err == nil {
		t.Errorf("CheckReadable under a 0700 directory: got nil, want an error")
	}
	for d := root; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	if err := CheckReadable(filepath.Join(root, "set"), m); err != nil {
		t.Errorf("CheckReadable: got %v, want nil", err)
	}
	os.Chmod(filepath.Join(root, "set", filepath.FromSlash(m.Files[1].Path)), 0o600)
	if err := CheckReadable(filepath.Join(root, "set"), m); err == nil {
		t.Errorf("CheckReadable with a 0600 file: got nil, want an error")
	}
}

// checkSessionIn checks that every running process of session sid is in
// cg, by the process's own /proc/PID/cgroup: a server that forks per
// connection (mini_httpd) has children come and go, and a child that is
// exiting (or a zombie until reaped) has left its cgroups, possibly between
// the check of its state and the read of its cgroups.
func checkSessionIn(t *testing.T, sid int, cg *CPUCgroup) {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := unix.Getsid(pid); err != nil || s != sid {
			continue
		}
		if state, _, ok := procState(pid); !ok || state == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err != nil {
			continue // exited meanwhile
		}
		// The kernel marks a task exiting before it leaves its cgroups, so
		// a process still not exiting after the read was in them during it.
		if state, _, ok := procState(pid); !ok || state == "" {
			continue
		}
		n++
		if !strings.Contains(string(b), "/"+filepath.Base(cg.Dir)+"\n") {
			t.Errorf("process %d of the server's session is not in its CPU cgroup %s: %q", pid, filepath.Base(cg.Dir), b)
		}
	}
	if n == 0 {
		t.Errorf("got no process in session %d", sid)
	}
}

// runningInGroup returns the processes of process group pgid that are not
// exiting nor zombies: a helper of a stopped server (h2o's crash handler)
// is orphaned when the server exits, killed with the group, and left for
// init to reap, which it does in its own time.
func runningInGroup(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, pgrp, ok := procState(pid); ok && state != "" && pgrp == pgid {
			out = append(out, pid)
		}
	}
	return out
}

// pfExiting is the kernel's PF_EXITING task flag: the task is in exit and
// has left its cgroups.
const pfExiting = 0x4

// procState returns pid's state ("R", "S", ...; "" when it is exiting or a
// zombie) and process group from /proc/PID/stat; ok is false when it is
// gone.
func procState(pid int) (state string, pgrp int, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 {
		return "", 0, false
	}
	// After the command: state, ppid, pgrp, session, tty_nr, tpgid, flags.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 7 {
		return "", 0, false
	}
	pgrp, err = strconv.Atoi(f[2])
	flags, ferr := strconv.ParseUint(f[6], 10, 64)
	if err != nil || ferr != nil {
		return "", 0, false
	}
	if f[0] == "Z" || f[0] == "X" || flags&pfExiting != 0 {
		return "", pgrp, true
	}
	return f[0], pgrp, true
}

// TestNginxDeferred checks that nginx-deferred's configuration, and only
// it, asks for TCP_DEFER_ACCEPT on the listener.
func TestNginxDeferred(t *testing.T) {
	x := &external{Docroot: "/srv", Dir: "/tmp/x", Addr: netip.MustParseAddrPort("127.0.0.1:8080"), MaxConns: 64}
	for _, deferred := range []bool{false, true} {
		conf := x.nginx(deferred)
		if got := strings.Contains(conf, "listen 127.0.0.1:8080 backlog=4096 deferred;"); got != deferred {
			t.Errorf("nginx(%v): deferred listen directive present %v, want %v in\n%s", deferred, got, deferred, conf)
		}
		if !strings.Contains(conf, "listen 127.0.0.1:8080 backlog=4096") {
			t.Errorf("nginx(%v): no listen directive on the address in\n%s", deferred, conf)
		}
	}
}
