package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"flashbench/servers/internal/cgi"
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
		&cli.BoolFlag{Name: "cgi-shared-memory", Usage: "sped, amped, flashlite, uring: CGI responses through a shared-memory pool, sent straight from the shared pages (IO-Lite: sendfile for the bodies a program keeps, writev for the others; uring: sendmsg for all), instead of pipes; flashlite's default (--cgi-shared-memory=false: pipes)", Destination: &f.sharedMemory,
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
