package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/cgi"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/stats"
	"flashbench/servers/internal/uringloop"
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
	if a.Probe != nil {
		if err := a.Probe(); err != nil {
			return err
		}
	}
	var core *httpcore.Core
	if !a.NoCore {
		// Every architecture leases the files it opens; the process
		// architectures' children get this configuration whole.
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
	if o.deferAccept {
		if err := listen.DeferAccept(lfd, listen.DeferSeconds); err != nil {
			return err
		}
	}
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
	stop := make(chan struct{})
	ctx := &RunContext{
		Arch: a, Core: core, Listener: lfd, Addr: addr, Stats: counters,
		Options: httpconn.ServeOptions{
			HeaderTimeout: o.headerTimeout, IdleTimeout: o.idleTimeout, WriteTimeout: o.writeTimeout,
			MaxConns: o.maxConns, Stats: counters, CGI: cgiFace(a, core, cgiOpts),
		},
		ShutdownTimeout: o.shutdownTimeout, Stop: stop, Stderr: stderr, CGI: cgiOpts,
	}
	face := ctx.Options.CGI
	counters.AddSource("cgi", func() any { return cgiCounts(face) })
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
	case <-ran: // the CGI face is no longer in use
		if face != nil {
			face.Close()
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
	if err := checkFlags(a, o.set); err != nil {
		return nil, err
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

// cgiFace returns the face through which a serves CGI programs: a
// cgi.Loop for an event loop (over pipes only on a ring), a cgi.Manager
// for blocking loops in this process; none without a core, or when
// children make their own.
func cgiFace(a *Arch, core *httpcore.Core, opts cgi.Options) httpconn.CGI {
	switch {
	case core == nil || a.Wait == WaitChildren:
		return nil
	case a.Wait == WaitEvents:
		return cgi.NewLoop[*evloop.Loop](opts)
	case a.Wait == WaitRing:
		return cgi.NewLoop[*uringloop.Loop](opts)
	}
	return cgi.NewManager(core, opts)
}

// cgiCounts returns the process counters of the CGI face, if any.
func cgiCounts(face httpconn.CGI) cgi.Counts {
	if f, ok := face.(interface{ Counts() cgi.Counts }); ok {
		return f.Counts()
	}
	return cgi.Counts{}
}
