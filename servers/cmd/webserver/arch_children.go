package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/connloop"
	"flashbench/servers/internal/proctree"
)

// The process architectures (forking, prefork) re-execute this binary for
// each child or worker. childArgs and parseChild carry the core's
// configuration and the timeouts across the exec, so that a child serves
// exactly what the parent would.

// childArgs returns the argv that starts the hidden subcommand name with
// ctx's document root, cache switches and timeouts.
func childArgs(ctx *RunContext, name string) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%s: find own binary: %w", ctx.Arch.Name, err)
	}
	cfg := ctx.Core.Config()
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ctx.Arch.Name, err)
	}
	args := []string{exe, name, "--root", root}
	for _, sw := range []struct {
		off  bool
		flag string
	}{{cfg.NoPathCache, "--no-pathname-cache"}, {cfg.NoHeaderCache, "--no-header-cache"}, {cfg.NoMmapCache, "--no-mmap-cache"}} {
		if sw.off {
			args = append(args, sw.flag)
		}
	}
	o := ctx.Options
	args = append(args,
		"--header-timeout", o.HeaderTimeout.String(),
		"--idle-timeout", o.IdleTimeout.String(),
		"--write-timeout", o.WriteTimeout.String())
	return append(args, cgiChildArgs(ctx.CGI)...), nil
}

// connOptions turns the event-loop options into the blocking loop's.
func connOptions(ctx *RunContext) connloop.Options {
	return connloop.Options{
		HeaderTimeout: ctx.Options.HeaderTimeout,
		IdleTimeout:   ctx.Options.IdleTimeout,
		WriteTimeout:  ctx.Options.WriteTimeout,
		CGI:           ctx.CGIManager(),
	}
}

// parseChild parses what childArgs wrote and builds the child's core,
// tracking its connections (connloop.Track). The caller closes the core and, with closeChild,
// the rest.
func parseChild(name string, args []string) (*httpcore.Core, connloop.Options, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg httpcore.Config
	var opts connloop.Options
	fs.StringVar(&cfg.Root, "root", "", "document root")
	fs.BoolVar(&cfg.NoPathCache, "no-pathname-cache", false, "")
	fs.BoolVar(&cfg.NoHeaderCache, "no-header-cache", false, "")
	fs.BoolVar(&cfg.NoMmapCache, "no-mmap-cache", false, "")
	fs.DurationVar(&opts.HeaderTimeout, "header-timeout", 0, "")
	fs.DurationVar(&opts.IdleTimeout, "idle-timeout", 0, "")
	fs.DurationVar(&opts.WriteTimeout, "write-timeout", 0, "")
	var cc childCGI
	fs.StringVar(&cc.dir, "cgi-dir", "", "")
	fs.IntVar(&cc.procs, "cgi-procs", 0, "")
	fs.DurationVar(&cc.timeout, "cgi-timeout", 0, "")
	fs.BoolVar(&cc.classic, "cgi-classic", false, "")
	if err := fs.Parse(args); err != nil || cfg.Root == "" || fs.NArg() > 0 {
		return nil, opts, fmt.Errorf("%s: usage: %s --root DIR [--no-*-cache] [--*-timeout D] (got %q)", name, name, args)
	}
	cfg.Lease = true // as serve's core
	core, err := httpcore.New(cfg)
	if err != nil {
		return nil, opts, fmt.Errorf("%s: %w", name, err)
	}
	if m := cc.manager(core); m != nil {
		opts.CGI = m
	}
	opts.Conns = connloop.Track(core)
	return core, opts, nil
}

// serveProcs runs a multi-process architecture like ctx.Serve, with the
// stats file's peak_rss_tree_bytes taken from its sampled tree memory: the
// largest sum of VmHWM over the parent and its live children.
func serveProcs(ctx *RunContext, s Server, peak func() proctree.Memory) error {
	ctx.Stats.TrackTree(func() int64 { return peak().HWMBytes })
	return ctx.Serve(s)
}
