package main

import (
	"io"
	"sort"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/cgi"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/stats"
)

// Arch is one server architecture `webserver --arch` can run.
//
// An architecture plugs in with one file in this folder, arch_NAME.go,
// whose init registers it (and, if it re-executes this binary for
// children, workers or helpers, the hidden subcommand they run):
//
//	func init() {
//		registerArch(Arch{
//			Name:     "amped",
//			Summary:  "Flash: SPED plus helper processes for disk work",
//			MaxProcs: 1,
//			Run:      runAmped,
//		})
//		registerHidden("amped-helper", amped.HelperMain)
//	}
//
// Run gets the open listener, the core and the options in a RunContext;
// it serves until ctx.Stop is closed, then shuts down gracefully within
// ctx.ShutdownTimeout. An event loop does that with ctx.Serve. A child
// re-executed by the parent runs `webserver amped-helper ARGS...`: the
// binary is os.Executable(), and inherited descriptors arrive as usual
// (exec.Cmd.ExtraFiles). After adding an architecture, regenerate the
// --help golden file: go test ./servers/cmd/webserver -run TestHelp -update
type Arch struct {
	// Name is the --arch value.
	Name string
	// Summary explains the architecture in one line of --help.
	Summary string
	// MaxProcs, when positive, sets GOMAXPROCS before Run (1 for the
	// single-threaded architectures).
	MaxProcs int
	// NoCore marks an architecture that serves no files (null): --root
	// is then optional and RunContext.Core is nil.
	NoCore bool
	// Configure, when set, adjusts the core configuration before the core
	// is built (e.g. SendFile for an IO-Lite data path).
	Configure func(*httpcore.Config)
	// CGISharedMemory makes persistent CGI programs answer through a
	// shared-memory pool the server sends from directly (IO-Lite) instead
	// of pipes; event-loop architectures only (see servers/internal/cgi).
	CGISharedMemory bool
	// Flags are the architecture's own flags (--threads, --workers,
	// ...), listed after the common ones; their Destination variables
	// are what Run reads.
	Flags []cli.Flag
	// Run serves until ctx.Stop is closed and the shutdown is done.
	Run func(ctx *RunContext) error
}

// RunContext is what an architecture's Run gets.
type RunContext struct {
	// Arch is the architecture being run.
	Arch *Arch
	// Core is the shared HTTP core on --root (nil for NoCore).
	Core *httpcore.Core
	// Listener is the listening socket, non-blocking, close-on-exec; run
	// closes it after Run returns.
	Listener int
	// Addr is the bound address with the real port.
	Addr string
	// Options carries the timeouts, --max-conns and the counters.
	Options evloop.Options
	// Stats are the counters written to --stats-file.
	Stats *stats.Counters
	// Helpers is --helpers (0: the architecture's default).
	Helpers int
	// HelperTimeout is --helper-timeout: the longest a helper may take
	// over one job before it is killed (0: no bound).
	HelperTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown after Stop.
	ShutdownTimeout time.Duration
	// Stop is closed on SIGTERM or SIGINT.
	Stop <-chan struct{}
	// Stderr is for diagnostics.
	Stderr io.Writer
	// CGI configures the CGI programs (--cgi-*). An event loop gets them
	// through Options.CGI already; a blocking architecture takes
	// CGIManager.
	CGI cgi.Options

	cgiMu      sync.Mutex
	cgiManager *cgi.Manager
}

// CGIManager returns the blocking CGI face of this server (made on first
// use, closed when the server stops), for connloop.Options.CGI and the
// baselines.
func (ctx *RunContext) CGIManager() *cgi.Manager {
	ctx.cgiMu.Lock()
	defer ctx.cgiMu.Unlock()
	if ctx.cgiManager == nil {
		ctx.cgiManager = cgi.NewManager(ctx.Core, ctx.CGI)
	}
	return ctx.cgiManager
}

// cgiManagerLoaded returns the blocking CGI face if it was made.
func (ctx *RunContext) cgiManagerLoaded() *cgi.Manager {
	ctx.cgiMu.Lock()
	defer ctx.cgiMu.Unlock()
	return ctx.cgiManager
}

// Server is what an event-loop architecture runs: Run on the calling
// goroutine until Shutdown is done.
type Server interface {
	Run() error
	Shutdown(deadline time.Duration)
}

// Serve runs s until ctx.Stop is closed, then shuts it down within
// ctx.ShutdownTimeout and returns what Run returned.
func (ctx *RunContext) Serve(s Server) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Stop:
			s.Shutdown(ctx.ShutdownTimeout)
		case <-done:
		}
	}()
	return s.Run()
}

var (
	archs  = map[string]*Arch{}
	hidden = map[string]func(args []string) error{}
)

// registerArch adds an architecture; a duplicate name is a programming
// error.
func registerArch(a Arch) {
	if _, dup := archs[a.Name]; dup {
		panic("webserver: architecture registered twice: " + a.Name)
	}
	archs[a.Name] = &a
}

// registerHidden adds a hidden subcommand for re-executed children,
// workers and helpers: `webserver NAME ARGS...` calls fn(ARGS).
func registerHidden(name string, fn func(args []string) error) {
	if _, dup := hidden[name]; dup {
		panic("webserver: hidden subcommand registered twice: " + name)
	}
	hidden[name] = fn
}

// archNames returns the registered architecture names in order.
func archNames() []string {
	names := make([]string, 0, len(archs))
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
