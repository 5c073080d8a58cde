package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/results"
)

func TestSoakErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown arch", []string{"soak", "--archs", "apache", "--bin", binDir}, `unknown architecture "apache"`},
		{"twice", []string{"soak", "--archs", "sped,sped", "--bin", binDir}, `"sped" given twice`},
		{"short", []string{"soak", "--duration", "2s", "--bin", binDir}, "want at least 5s"},
		{"no binaries", []string{"soak", "--bin", "/nonexistent"}, "run make build"},
		{"arguments", []string{"soak", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(append([]string{"harness"}, tt.args...), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("harness %v: got error %v, want one containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// buildCGI puts the CGI programs into binDir/cgi-bin.
func buildCGI(t *testing.T) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, "cgi-bin")+"/",
		"flashbench/cgi-apps/cmd/dyn", "flashbench/cgi-apps/cmd/adrot", "flashbench/cgi-apps/cmd/page")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build CGI programs: %v\n%s", err, out)
	}
}

// TestSoakInterrupt sends SIGINT to `harness soak` once its first load
// interval is written: it must exit with status 130, stop and reap every
// server, and keep the intervals written so far and a report marked
// interrupted.
func TestSoakInterrupt(t *testing.T) {
	buildCGI(t)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("prctl: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	out := filepath.Join(t.TempDir(), "soak")
	cmd := exec.Command(os.Args[0], "soak", "--duration", "1m", "--interval", "2s", "--archs", "sped,prefork",
		"--bin", binDir, "-o", out, "--filesets", t.TempDir())
	cmd.Env = append(os.Environ(), "FLASHBENCH_HARNESS_MAIN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	first := filepath.Join(out, "intervals", "sped", "keepalive-000.json")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(first); err == nil {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(-pid, syscall.SIGKILL)
			<-exited
			t.Fatalf("no interval written after a minute\nstderr:\n%s", stderr.String())
		}
	}
	procs := soakTree(pid)
	syscall.Kill(-pid, syscall.SIGINT)
	var err error
	select {
	case err = <-exited:
	case <-time.After(time.Minute):
		syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatalf("harness still running a minute after SIGINT\nstderr:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit: got %v, want status 130\nstderr:\n%s", err, stderr.String())
	}
	checkLeftNothing(t, procs)
	checkInterruptedSoak(t, out)
}

// checkLeftNothing checks that no process of the harness's tree at the
// Ctrl-C lives on. The test process is a subreaper: the servers'
// grandchildren that the soak killed after their parents exited were
// reparented to it, and are reaped here first.
func checkLeftNothing(t *testing.T, procs map[int]string) {
	t.Helper()
	me := os.Getpid()
	for pid, s := range soakProcs() {
		if s.ppid == me {
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
	}
	now := soakProcs()
	for pid, start := range procs {
		if s, ok := now[pid]; ok && s.start == start {
			t.Errorf("process %d (%s) of the harness's tree still runs", pid, s.comm)
		}
	}
	for pid, s := range now {
		if s.ppid == me {
			t.Errorf("process %d (%s): an orphan of the harness", pid, s.comm)
		}
	}
}

// soakProc is a process as /proc/PID/stat shows it.
type soakProc struct {
	ppid        int
	comm, start string
}

// soakProcs reads every process of the system.
func soakProcs() map[int]soakProc {
	ents, _ := os.ReadDir("/proc")
	out := map[int]soakProc{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if err != nil || open < 0 || end < open {
			continue
		}
		f := strings.Fields(string(b[end+1:]))
		if len(f) < 20 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		out[pid] = soakProc{ppid: ppid, comm: string(b[open+1 : end]), start: f[19]}
	}
	return out
}

// soakTree returns root and its descendants with their start times.
func soakTree(root int) map[int]string {
	all := soakProcs()
	out := map[int]string{root: all[root].start}
	for grew := true; grew; {
		grew = false
		for pid, s := range all {
			if _, in := out[s.ppid]; in {
				if _, seen := out[pid]; !seen {
					out[pid], grew = s.start, true
				}
			}
		}
	}
	return out
}

// checkInterruptedSoak checks the report and the intervals of an
// interrupted soak run.
func checkInterruptedSoak(t *testing.T, out string) {
	t.Helper()
	var rep struct {
		Interrupted bool     `json:"interrupted"`
		Passed      bool     `json:"passed"`
		Failures    []string `json:"failures"`
		Results     struct {
			IntervalFiles int `json:"interval_files"`
			FilesReadBack int `json:"files_read_back"`
		} `json:"results"`
	}
	data, err := os.ReadFile(filepath.Join(out, "soak.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Passed || rep.Results.IntervalFiles < 2 || rep.Results.FilesReadBack != rep.Results.IntervalFiles {
		t.Errorf("soak.json: got interrupted %v, passed %v, results %+v; want an interrupted run with every interval read back",
			rep.Interrupted, rep.Passed, rep.Results)
	}
	files, _ := filepath.Glob(filepath.Join(out, "intervals", "*", "*.json"))
	cut := 0
	for _, f := range files {
		res, err := results.Read(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
		} else if res.Interrupted {
			cut++
		}
	}
	if len(files) != rep.Results.IntervalFiles || cut == 0 {
		t.Errorf("got %d interval files, %d of them interrupted; want %d, some interrupted", len(files), cut, rep.Results.IntervalFiles)
	}
}
