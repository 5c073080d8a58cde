package harness

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestTracerAttachAndStop attaches strace to a real process:
// waitAttached must return only once strace traces it, and stop must
// detach strace, leaving the process running and untraced, and strace
// gone.
func TestTracerAttachAndStop(t *testing.T) {
	bin, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed")
	}
	target := exec.Command("sleep", "60")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Process.Kill(); target.Wait() })
	pid := target.Process.Pid
	if n := untraced([]int{pid}, 1); n != 1 {
		t.Fatalf("untraced before strace: got %d threads, want 1", n)
	}
	dir := t.TempDir()
	tr, err := startStrace(bin, filepath.Join(dir, "out"), filepath.Join(dir, "log"), []int{pid})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.stop()
	if err := tr.waitAttached(context.Background(), []int{pid}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	status := fmt.Sprintf("/proc/%d/status", pid)
	if got, _ := tracerOf(status); got != tr.cmd.Process.Pid {
		t.Errorf("TracerPid after waitAttached: got %d, want strace's %d", got, tr.cmd.Process.Pid)
	}
	if err := tr.stop(); err != nil {
		t.Errorf("stop: got %v, want nil", err)
	}
	select {
	case <-tr.done:
	default:
		t.Error("strace still running after stop")
	}
	if got, ok := tracerOf(status); !ok || got != 0 {
		t.Errorf("TracerPid after stop: got %d (alive %v), want 0, alive", got, ok)
	}
}
