package robust_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"flashbench/servers/httpcore/conformance"
)

// TestListenLoopbackByDefault starts every architecture without --listen
// and checks that it binds 127.0.0.1 only. The default port (8080) may be
// taken on a shared machine, so the server runs in a network namespace of
// its own (unshare -rn), whose loopback nobody else uses.
func TestListenLoopbackByDefault(t *testing.T) {
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	if err := exec.Command("unshare", "-rn", "true").Run(); err != nil {
		t.Skipf("no network namespace for the default port: unshare -rn: %v", err)
	}
	wrapper := []string{"unshare", "-rn", "sh", "-c", `ip link set lo up && exec "$0" "$@"`}
	for _, arch := range append(append([]string{}, flashArchs...), baselineArchs...) {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			root := conformance.Docroot(t)
			s := launch(t, wrapper, append([]string{"--arch", arch, "--root", root}, poolArgs(arch)...)...)
			if s.addr != "127.0.0.1:8080" {
				t.Errorf("ready line: got address %q, want 127.0.0.1:8080", s.addr)
			}
			listening := listeners(t, s.pid)
			if len(listening) != 1 || listening[0] != "0100007F:1F90" {
				t.Errorf("listening sockets in the server's namespace: got %v, want only 0100007F:1F90 (127.0.0.1:8080)", listening)
			}
		})
	}
}

// listeners returns the local addresses of the listening TCP sockets
// (IPv4 and IPv6) in pid's network namespace, as /proc/net/tcp writes them.
func listeners(t *testing.T, pid int) []string {
	t.Helper()
	var out []string
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if f := strings.Fields(line); len(f) > 3 && f[3] == "0A" { // TCP_LISTEN
				out = append(out, f[1])
			}
		}
	}
	return out
}
