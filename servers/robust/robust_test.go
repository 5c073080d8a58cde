package robust_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/webtest"
)

// TestMain builds the webserver once. The cases spend their time waiting
// for server timeouts, not computing, so more of them run at once than the
// default (GOMAXPROCS) unless -test.parallel says otherwise.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "6")
	}
	webtest.Main(m)
}

// flashArchs are the flashbench architectures: every case must pass on
// each of them.
var flashArchs = []string{"sped", "amped", "flashlite", "uring", "forking", "prefork", "threaded"}

// baselineArchs are the reference servers: they run the cases that name
// them, and must pass them, except where knownDifferences records what
// they do instead (and why).
var baselineArchs = []string{"nethttp", "fasthttp"}

// allArchs are the flashbench architectures and the baselines.
func allArchs() []string { return append(slices.Clone(flashArchs), baselineArchs...) }

// Pool sizes: small, so that the process and thread architectures start
// fast, large enough that a few slow clients leave room for others.
const (
	preforkWorkers = 8
	threadedPool   = 64
	ampedHelpers   = 2
)

// Short server timeouts keep the timeout cases fast.
const (
	headerTimeout = "1s"
	idleTimeout   = "2s"
	writeTimeout  = "2s"
)

// bigSize is the size of big.bin, large enough that a response cannot sit
// whole in the socket buffers of both ends.
const bigSize = 8 << 20

// bigFile is the content of big.bin.
var bigFile = conformance.Pattern(bigSize, 7)

// robustCase is one row of the table: a check run against a fresh server
// of each architecture it names.
type robustCase struct {
	name string
	// archs are the architectures the case applies to; nil means every
	// flashbench architecture.
	archs []string
	// args are extra webserver flags, after the common ones.
	args []string
	// custom means the case starts its own server (run gets env.srv nil).
	custom bool
	run    func(t *testing.T, e *env)
}

// env is what a case gets: the architecture, its docroot and its server.
type env struct {
	arch string
	root string
	srv  *webtest.Server
}

// addr is the server's address.
func (e *env) addr() string { return e.srv.Addr }

// cases is THE table: every hostile-client and fault case.
func cases() []robustCase {
	var all []robustCase
	for _, group := range [][]robustCase{hostileCases(), fileFaultCases(), resourceCases(), shutdownCases(), securityCases(), cgiCases()} {
		all = append(all, group...)
	}
	return all
}

// TestRobust runs every case of the table against every architecture it
// applies to, each architecture in a parallel subtest, each case on a
// server of its own.
func TestRobust(t *testing.T) {
	for _, arch := range allArchs() {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases() {
				if !applies(c, arch) {
					continue
				}
				t.Run(c.name, func(t *testing.T) { runCase(t, arch, c) })
			}
		})
	}
}

// runCase runs case c against a fresh server of arch.
func runCase(t *testing.T, arch string, c robustCase) {
	e := newEnv(t, arch)
	if !c.custom {
		e.srv = startServer(t, arch, e.root, c.args...)
	}
	c.run(t, e)
}

// applies reports whether case c runs on arch.
func applies(c robustCase, arch string) bool {
	if c.archs == nil {
		return slices.Contains(flashArchs, arch)
	}
	return slices.Contains(c.archs, arch)
}

// newEnv builds a fresh docroot (the conformance fixture plus big.bin) for
// one case.
func newEnv(t *testing.T, arch string) *env {
	t.Helper()
	root := conformance.Docroot(t)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), bigFile, 0o644); err != nil {
		t.Fatalf("write big.bin: %v", err)
	}
	return &env{arch: arch, root: root}
}

// serverArgs returns the webserver flags for arch on root: the short
// timeouts, the small pools, then extra (later flags win).
func serverArgs(arch, root string, extra ...string) []string {
	args := []string{"--arch", arch, "--root", root,
		"--header-timeout", headerTimeout, "--idle-timeout", idleTimeout, "--write-timeout", writeTimeout}
	args = append(args, poolArgs(arch)...)
	return append(args, extra...)
}

// poolArgs returns the flags that size arch's pool of workers, threads
// or helpers: each architecture takes its own only.
func poolArgs(arch string) []string {
	switch arch {
	case "prefork":
		return []string{"--workers", fmt.Sprint(preforkWorkers)}
	case "threaded":
		return []string{"--threads", fmt.Sprint(threadedPool)}
	case "amped", "flashlite":
		return []string{"--helpers", fmt.Sprint(ampedHelpers)}
	}
	return nil
}

// startServer starts arch on root with serverArgs and waits until it
// serves (a prefork master prints its ready line before its workers
// accept; the listener queues the first requests meanwhile).
func startServer(t *testing.T, arch, root string, extra ...string) *webtest.Server {
	t.Helper()
	s := webtest.Start(t, serverArgs(arch, root, extra...)...)
	mustServe(t, s.Addr, "after start")
	return s
}
