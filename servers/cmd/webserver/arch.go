package main

import (
	"io"
	"sort"
	"time"

	"github.com/urfave/cli/v2"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/cgi"
	"flashbench/servers/internal/httpconn"
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
//			Flags:    helperFlags,
//			Run:      runAmped,
//		})
//		registerHidden("amped-helper", ampedHelper)
//	}
//
// Run gets the open listener, the core and the options in a RunContext;
// it serves until ctx.Stop is closed, then shuts down gracefully within
// ctx.ShutdownTimeout. An event loop does that with ctx.Serve. A child
// re-executed by the parent runs `webserver amped-helper ARGS...`: the
// binary is os.Executable(), and inherited descriptors arrive as usual
// (exec.Cmd.ExtraFiles). A common flag the architecture cannot honour is
// refused (refusals, in refuse.go), and so is another architecture's own
// flag. After adding an architecture, regenerate the --help golden file:
// go test ./servers/cmd/webserver -run TestHelp -update
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
	// Baseline marks a reference server that serves files its own way,
	// without the core's caches.
	Baseline bool
	// Wait is how the architecture's connections wait: it decides the
	// CGI face in RunContext.Options.
	Wait Wait
	// Probe, when set, checks before the server listens that the machine
	// can run the architecture (io_uring's operations), so that it
	// refuses to start in one line instead of failing once it serves.
	Probe func() error
	// Configure, when set, adjusts the core configuration before the core
	// is built (e.g. SendFile for an IO-Lite data path).
	Configure func(*httpcore.Config)
	// CGISharedMemory makes persistent CGI programs answer through a
	// shared-memory pool the server sends from directly (IO-Lite) instead
	// of pipes; epoll event-loop architectures only (see
	// servers/internal/cgi).
	CGISharedMemory bool
	// Flags are the architecture's own flags (--threads, --helpers, ...),
	// listed after the common ones; their Destination variables are what
	// Run reads. Architectures may share a flag (the same *cli.Flag).
	Flags []cli.Flag
	// Run serves until ctx.Stop is closed and the shutdown is done.
	Run func(ctx *RunContext) error
}

// Wait is how an architecture's connections wait for their sockets.
type Wait uint8

// Waits.
const (
	// WaitEvents: an event loop (servers/internal/evloop); CGI through a
	// cgi.Loop, persistent programs only.
	WaitEvents Wait = iota
	// WaitRing: an io_uring loop (servers/internal/uringloop); CGI through
	// a cgi.Loop on the ring, persistent programs over pipes only (the
	// loop sends no file ranges, so no shared-memory bodies).
	WaitRing
	// WaitBlocking: blocking calls on threads of this process (connloop,
	// the baselines); CGI through a cgi.Manager.
	WaitBlocking
	// WaitChildren: blocking calls in re-executed children or workers,
	// each of which makes its own cgi.Manager from RunContext.CGI.
	WaitChildren
)

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
	// Options are what every architecture serves with: the timeouts,
	// --max-conns, the counters, and the CGI face that suits Arch.Wait
	// (none for WaitChildren: each child makes its own).
	Options httpconn.ServeOptions
	// Stats are the counters written to --stats-file (Options.Stats).
	Stats *stats.Counters
	// ShutdownTimeout bounds the graceful shutdown after Stop.
	ShutdownTimeout time.Duration
	// Stop is closed on SIGTERM or SIGINT.
	Stop <-chan struct{}
	// Stderr is for diagnostics.
	Stderr io.Writer
	// CGI configures the CGI programs (--cgi-*), for the children that
	// make their own face.
	CGI cgi.Options
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
