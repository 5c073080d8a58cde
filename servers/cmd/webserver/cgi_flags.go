package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/cgi"
	"flashbench/servers/internal/connloop"
	"flashbench/servers/internal/stats"
)

// cgiFlags are the --cgi-* flags.
type cgiFlags struct {
	dir          string
	procs        int
	timeout      time.Duration
	sharedMemory bool
	sharedSet    bool // --cgi-shared-memory given: it overrides the arch's default
	poolBytes    int
	classic      bool
}

func (f *cgiFlags) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cgi-dir", Usage: "directory of the CGI programs served under /cgi-bin/ (default: cgi-bin next to this binary)", Destination: &f.dir},
		&cli.IntFlag{Name: "cgi-procs", Value: cgi.DefaultProcs, Usage: "persistent processes per CGI program (per worker or child process for prefork and forking)", Destination: &f.procs},
		&cli.DurationFlag{Name: "cgi-timeout", Value: cgi.DefaultTimeout, Usage: "longest a CGI program may take over one request before it is killed and the request answered 504", Destination: &f.timeout},
		&cli.BoolFlag{Name: "cgi-shared-memory", Usage: "event-loop architectures: CGI responses through a shared-memory pool, sent straight from the shared pages (IO-Lite: sendfile for the bodies a program keeps, writev for the others), instead of pipes; flashlite's default (--cgi-shared-memory=false: pipes)", Destination: &f.sharedMemory,
			Action: func(*cli.Context, bool) error { f.sharedSet = true; return nil }},
		&cli.IntFlag{Name: "cgi-pool-bytes", Value: cgi.DefaultPoolBytes, Usage: "with --cgi-shared-memory: bytes of each CGI process's shared-memory pool", Destination: &f.poolBytes},
		&cli.BoolFlag{Name: "cgi-classic", Usage: "forking, prefork, threaded and the baselines: run each CGI request in a new process as CGI/1.1 (RFC 3875) instead of persistent processes", Destination: &f.classic},
	}
}

// options builds the cgi options for the server.
func (f *cgiFlags) options(a *Arch, root string, counters *stats.Counters) (cgi.Options, error) {
	if f.procs < 0 {
		return cgi.Options{}, fmt.Errorf("--cgi-procs %d: must not be negative", f.procs)
	}
	if f.poolBytes < 0 {
		return cgi.Options{}, fmt.Errorf("--cgi-pool-bytes %d: must not be negative", f.poolBytes)
	}
	if f.timeout < 0 {
		return cgi.Options{}, fmt.Errorf("--cgi-timeout %v: must not be negative", f.timeout)
	}
	dir := f.dir
	if dir == "" {
		exe, err := os.Executable()
		if err != nil {
			return cgi.Options{}, fmt.Errorf("cgi: find own binary: %w", err)
		}
		dir = filepath.Join(filepath.Dir(exe), "cgi-bin")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return cgi.Options{}, fmt.Errorf("cgi: %w", err)
	}
	if root != "" {
		if root, err = filepath.Abs(root); err != nil {
			return cgi.Options{}, fmt.Errorf("cgi: %w", err)
		}
	}
	return cgi.Options{
		Dir: dir, Procs: f.procs, Timeout: f.timeout, Root: root, Stats: counters,
		SharedMemory: f.sharedMemory || !f.sharedSet && a.CGISharedMemory, PoolBytes: f.poolBytes, Classic: f.classic,
	}, nil
}

// cgiChildArgs carries the CGI options to a re-executed child or worker.
func cgiChildArgs(o cgi.Options) []string {
	args := []string{"--cgi-dir", o.Dir, "--cgi-procs", strconv.Itoa(o.Procs), "--cgi-timeout", o.Timeout.String()}
	if o.Classic {
		args = append(args, "--cgi-classic")
	}
	return args
}

// childCGI is what parseChild reads back.
type childCGI struct {
	dir     string
	procs   int
	timeout time.Duration
	classic bool
}

// manager builds a child's own blocking CGI face (each child or worker
// runs its own persistent CGI processes), or nil without --cgi-dir.
func (c *childCGI) manager(core *httpcore.Core) *cgi.Manager {
	if c.dir == "" {
		return nil
	}
	return cgi.NewManager(core, cgi.Options{Dir: c.dir, Procs: c.procs, Timeout: c.timeout, Classic: c.classic, Root: core.Config().Root})
}

// closeChild stops a child's CGI processes and its lease watch.
func closeChild(opts connloop.Options) {
	if m, ok := opts.CGI.(*cgi.Manager); ok && m != nil {
		m.Close()
	}
	opts.Conns.Close()
}

var errCGIClassicLoop = errors.New("--cgi-classic: the event-loop architectures run persistent CGI programs only")
