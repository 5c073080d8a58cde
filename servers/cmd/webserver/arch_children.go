package main

import (
	"fmt"
	"os"

	"flashbench/servers/internal/child"
	"flashbench/servers/internal/proctree"
)

// The process architectures start children with the parent's whole
// configuration (package child): prefork re-executes this binary for each
// worker, forking runs the webserver-child program for each connection.

// childConfig returns ctx's configuration as a child gets it.
func childConfig(ctx *RunContext) child.Config {
	return child.Config{Core: ctx.Core.Config(), Serve: ctx.Options, CGI: ctx.CGI}
}

// hiddenArgs returns the argv that starts this binary's hidden subcommand
// name with ctx's configuration.
func hiddenArgs(ctx *RunContext, name string) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%s: find own binary: %w", ctx.Arch.Name, err)
	}
	args, err := child.Args([]string{exe, name}, childConfig(ctx))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ctx.Arch.Name, err)
	}
	return args, nil
}

// serveProcs runs a multi-process architecture like ctx.Serve, with the
// stats file's peak_rss_tree_bytes taken from its sampled tree memory: the
// largest sum of VmHWM over the parent and its live children.
func serveProcs(ctx *RunContext, s Server, peak func() proctree.Memory) error {
	ctx.Stats.TrackTree(func() int64 { return peak().HWMBytes })
	return ctx.Serve(s)
}

// processBound returns n, the processes of a process architecture, bounded
// by --max-conns when it is set: each of its processes serves one
// connection at a time, so a bound on connections is one on processes, as
// Apache's MaxRequestWorkers bounds its prefork children.
func processBound(n, maxConns int) int {
	if maxConns > 0 && maxConns < n {
		return maxConns
	}
	return n
}
