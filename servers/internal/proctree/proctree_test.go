package proctree

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Environment of the re-executed helper process.
const (
	envHelper   = "PROCTREE_TEST_HELPER" // "parent", "leaf" or "exit"
	envHoldMiB  = "PROCTREE_TEST_HOLD_MIB"
	helperUsage = "-test.run=^TestHelperProcess$"
)

// TestHelperProcess is not a test: it is the process the tests start by
// re-executing the test binary. "parent" starts a "leaf" and waits for it;
// "leaf" touches PROCTREE_TEST_HOLD_MIB MiB and sleeps until killed;
// "exit" exits at once, "fail" with status 3; "graceful", "stubborn",
// "supervisor" and "command" are in group_test.go.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(envHelper) {
	case "parent":
		cmd := helper("leaf")
		cmd.Stdout = os.Stdout
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(0)
	case "leaf":
		mib, _ := strconv.Atoi(os.Getenv(envHoldMiB))
		hold := make([]byte, mib<<20)
		for i := 0; i < len(hold); i += 4096 {
			hold[i] = 1
		}
		fmt.Println("ready")
		time.Sleep(time.Minute)
		hold[0]++
		os.Exit(0)
	case "exit":
		os.Exit(0)
	case "fail":
		os.Exit(3)
	case "graceful", "stubborn":
		runHelperSignalled(os.Getenv(envHelper) == "graceful")
	case "supervisor":
		runHelperSupervisor()
	case "command":
		runHelperCommand()
	default:
		t.Skip("runs only as a re-executed helper process")
	}
}

func helper(kind string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], helperUsage)
	cmd.Env = append(append(os.Environ(), envHelper+"="+kind), env...)
	return cmd
}

// startTree starts parent -> leaf holding mib MiB, waits until the leaf
// is ready, and kills both when the test ends.
func startTree(t *testing.T, mib int) *exec.Cmd {
	t.Helper()
	cmd := helper("parent", envHoldMiB+"="+strconv.Itoa(mib))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if kids, err := Descendants(cmd.Process.Pid); err == nil {
			for _, k := range kids {
				if p, err := os.FindProcess(k.PID); err == nil {
					p.Kill()
				}
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
	})
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("helper tree: got %q, %v, want ready", buf, err)
	}
	return cmd
}

func TestDescendantsAndTreeMemory(t *testing.T) {
	const mib = 64
	cmd := startTree(t, mib)
	self := os.Getpid()
	kids, err := Descendants(self)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, k := range kids {
		pids = append(pids, k.PID)
	}
	if !slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("got descendants %v of %d, want the helper %d among them", pids, self, cmd.Process.Pid)
	}
	below, err := Descendants(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(below) != 1 || below[0].PPID != cmd.Process.Pid {
		t.Fatalf("got descendants %+v of the helper, want exactly its leaf", below)
	}
	own, err := ReadStatus(self)
	if err != nil {
		t.Fatal(err)
	}
	m, err := TreeMemory(self)
	if err != nil {
		t.Fatal(err)
	}
	if m.Processes < 3 || m.HWMBytes < own.HWMBytes+mib<<20 || m.RSSBytes > m.HWMBytes {
		t.Fatalf("got tree memory %+v (own VmHWM %d), want >= 3 processes, VmHWM >= own + %d MiB, VmRSS <= VmHWM",
			m, own.HWMBytes, mib)
	}
	var p Peak
	if err := p.Sample(self); err != nil {
		t.Fatal(err)
	}
	if got := p.Max(); got.HWMBytes < own.HWMBytes+mib<<20 {
		t.Fatalf("got peak %+v, want VmHWM >= own + %d MiB", got, mib)
	}
	// A set with the leaf and a pid that does not exist: the leaf counts,
	// the missing one is skipped.
	set, err := SumMemory([]int{below[0].PID, 1 << 30})
	if err != nil || set.Processes != 1 || set.HWMBytes < mib<<20 {
		t.Fatalf("SumMemory(leaf, missing): got %+v, %v, want 1 process holding >= %d MiB", set, err, mib)
	}
	var q Peak
	if err := q.SampleSet([]int{below[0].PID}); err != nil || q.Max().HWMBytes < mib<<20 {
		t.Fatalf("SampleSet(leaf): got %+v, %v, want the leaf's memory", q.Max(), err)
	}
}

func TestZombies(t *testing.T) {
	cmd := helper("exit")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for !isZombie(t, pid) {
		if time.Now().After(deadline) {
			cmd.Wait()
			t.Fatalf("exited child %d never showed as a zombie of %d", pid, os.Getpid())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if isZombie(t, pid) {
		t.Fatalf("child %d still a zombie after Wait", pid)
	}
}

func isZombie(t *testing.T, pid int) bool {
	t.Helper()
	z, err := Zombies(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(z, func(p Proc) bool { return p.PID == pid })
}

func TestFDsAndThreads(t *testing.T) {
	before, err := FDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	after, err := FDs(os.Getpid())
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if after != before+1 {
		t.Fatalf("got %d descriptors after opening one more than %d, want %d", after, before, before+1)
	}
	s, err := ReadStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.Threads < 1 {
		t.Fatalf("got %d threads, want at least 1", s.Threads)
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Proc
		err  bool
	}{
		{name: "plain", in: "42 (webserver) S 7 42 42 0 -1", want: Proc{PID: 42, PPID: 7, State: 'S', Comm: "webserver"}},
		{name: "zombie", in: "9 (sh) Z 1 9 9", want: Proc{PID: 9, PPID: 1, State: 'Z', Comm: "sh"}},
		{name: "comm-with-parens", in: "5 (a) b (c) R 3 5", want: Proc{PID: 5, PPID: 3, State: 'R', Comm: "a) b (c"}},
		{name: "no-comm", in: "5 R 3", err: true},
		{name: "short", in: "5 (x) R", err: true},
		{name: "bad-ppid", in: "5 (x) R y", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.in))
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("parseStat(%q): got %+v, %v, want %+v (error %v)", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	in := "Name:\twebserver\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t5\n"
	got, err := parseStatus([]byte(in))
	want := Status{RSSBytes: 1 << 20, HWMBytes: 2 << 20, Threads: 5}
	if err != nil || got != want {
		t.Fatalf("parseStatus(%q): got %+v, %v, want %+v", in, got, err, want)
	}
	zombie := "Name:\tx\nState:\tZ (zombie)\nThreads:\t1\n"
	if got, err := parseStatus([]byte(zombie)); err != nil || got != (Status{Threads: 1}) {
		t.Fatalf("parseStatus(%q): got %+v, %v, want only Threads 1", zombie, got, err)
	}
	if _, err := parseStatus([]byte("VmRSS:\tlots kB\n")); err == nil {
		t.Fatal("parseStatus of a malformed VmRSS: got no error, want one")
	}
}

func TestPeakSampleEvery(t *testing.T) {
	var p Peak
	calls := 0
	stop := p.SampleEvery(time.Millisecond, func() []int {
		calls++
		return []int{os.Getpid()}
	})
	time.Sleep(20 * time.Millisecond)
	stop()
	n := calls // stop has returned: no more calls
	if n == 0 || p.Max().HWMBytes == 0 {
		t.Fatalf("SampleEvery of this process: got %d samples and peak %d bytes, want both > 0", n, p.Max().HWMBytes)
	}
	time.Sleep(5 * time.Millisecond)
	if calls != n {
		t.Errorf("after stop: got %d samples, want still %d", calls, n)
	}
}
