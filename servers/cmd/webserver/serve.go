package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/cgi"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/stats"
)

// shutdownGrace is how long past --shutdown-timeout run waits for an
// architecture that does not return before giving up on it.
const shutdownGrace = time.Second

// serve runs the chosen architecture until a signal stops it.
func serve(o *options, stdout, stderr io.Writer) error {
	a, err := o.validate()
	if err != nil {
		return err
	}
	var core *httpcore.Core
	if !a.NoCore {
		cfg := httpcore.Config{Root: o.root, NoPathCache: o.noPathCache, NoHeaderCache: o.noHeaderCache, NoMmapCache: o.noMmapCache, Lease: true}
		if a.Configure != nil {
			a.Configure(&cfg)
		}
		if core, err = httpcore.New(cfg); err != nil {
			return err
		}
		defer core.Close()
	}
	lfd, addr, err := listen.TCP(o.listen)
	if err != nil {
		return err
	}
	defer unix.Close(lfd)
	if a.MaxProcs > 0 {
		runtime.GOMAXPROCS(a.MaxProcs)
	}
	counters := stats.New()
	if core != nil {
		counters.AttachCore(core)
	}
	cgiOpts, err := o.cgi.options(a, o.root, counters)
	if err != nil {
		return err
	}
	if cgiOpts.Classic && a.MaxProcs == 1 {
		return errCGIClassicLoop
	}
	stop := make(chan struct{})
	ctx := &RunContext{
		Arch: a, Core: core, Listener: lfd, Addr: addr, Stats: counters,
		Options: evloop.Options{
			HeaderTimeout: o.headerTimeout, IdleTimeout: o.idleTimeout, WriteTimeout: o.writeTimeout,
			MaxConns: o.maxConns, Stats: counters,
		},
		Helpers: o.helpers, HelperTimeout: o.helperTimeout,
		ShutdownTimeout: o.shutdownTimeout, Stop: stop, Stderr: stderr,
		CGI: cgiOpts,
	}
	var loopCGI *cgi.Loop
	if core != nil {
		loopCGI = cgi.NewLoop(cgiOpts)
		ctx.Options.CGI = loopCGI
	}
	counters.AddSource("cgi", func() any { return cgiCounts(loopCGI, ctx) })
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	extra := map[string]any{"arch": a.Name, "listen": addr, "root": o.root}
	fmt.Fprintf(stdout, "webserver: %s listening on %s\n", a.Name, addr)
	done := make(chan error, 1)
	ran := make(chan struct{})
	go func() {
		err := a.Run(ctx)
		close(ran)
		done <- err
	}()
	err = wait(o, counters, extra, sigs, stop, done, stderr)
	select {
	case <-ran: // the CGI faces are no longer in use
		if loopCGI != nil {
			loopCGI.Close()
		}
		if ctx.cgiManager != nil {
			ctx.cgiManager.Close()
		}
	default:
	}
	if o.statsFile != "" {
		if werr := counters.WriteFile(o.statsFile, extra); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// wait serves signals until the architecture returns: SIGUSR1 writes the
// stats file, SIGTERM and SIGINT close stop, and an architecture still
// running past the shutdown timeout is given up on.
func wait(o *options, counters *stats.Counters, extra map[string]any, sigs <-chan os.Signal,
	stop chan struct{}, done <-chan error, stderr io.Writer) error {
	var deadline <-chan time.Time
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("%s: %w", extra["arch"], err)
			}
			return nil
		case <-deadline:
			return fmt.Errorf("shutdown: %s did not stop within %v", extra["arch"], o.shutdownTimeout+shutdownGrace)
		case sig := <-sigs:
			if sig == syscall.SIGUSR1 {
				if o.statsFile != "" {
					if err := counters.WriteFile(o.statsFile, extra); err != nil {
						fmt.Fprintf(stderr, "webserver: %v\n", err)
					}
				}
				continue
			}
			if deadline == nil {
				close(stop)
				deadline = time.After(o.shutdownTimeout + shutdownGrace)
			}
		}
	}
}

// validate checks the flags that the parser cannot.
func (o *options) validate() (*Arch, error) {
	if o.arch == "" {
		return nil, fmt.Errorf("--arch is required (one of: %s)", joinNames())
	}
	a, ok := archs[o.arch]
	if !ok {
		return nil, fmt.Errorf("unknown architecture %q (one of: %s)", o.arch, joinNames())
	}
	if !a.NoCore {
		if o.root == "" {
			return nil, errors.New("--root is required")
		}
		fi, err := os.Stat(o.root)
		if err != nil {
			return nil, fmt.Errorf("root: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("root: %s is not a directory", o.root)
		}
	}
	switch {
	case o.maxConns < 0:
		return nil, fmt.Errorf("--max-conns %d: must not be negative", o.maxConns)
	case o.helpers < 0:
		return nil, fmt.Errorf("--helpers %d: must not be negative", o.helpers)
	case o.helperTimeout < 0:
		return nil, fmt.Errorf("--helper-timeout %v: must not be negative", o.helperTimeout)
	case o.shutdownTimeout <= 0:
		return nil, fmt.Errorf("--shutdown-timeout %v: must be positive", o.shutdownTimeout)
	case o.headerTimeout <= 0:
		return nil, fmt.Errorf("--header-timeout %v: must be positive", o.headerTimeout)
	case o.idleTimeout <= 0:
		return nil, fmt.Errorf("--idle-timeout %v: must be positive", o.idleTimeout)
	case o.writeTimeout <= 0:
		return nil, fmt.Errorf("--write-timeout %v: must be positive", o.writeTimeout)
	}
	return a, nil
}

func joinNames() string {
	s := ""
	for i, n := range archNames() {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

func sortStrings(s []string) { sort.Strings(s) }

// cgiCounts sums the process counters of the CGI faces in use.
func cgiCounts(loop *cgi.Loop, ctx *RunContext) cgi.Counts {
	var c cgi.Counts
	if loop != nil {
		c = loop.Counts()
	}
	if m := ctx.cgiManagerLoaded(); m != nil {
		b := m.Counts()
		c.Spawned += b.Spawned
		c.Died += b.Died
		c.TimedOut += b.TimedOut
		c.Requests += b.Requests
	}
	return c
}
