package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/cgi"
	"flashbench/servers/internal/connloop"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/proctree"
)

// The process architectures (forking, prefork) re-execute this binary for
// each child or worker. The child gets the parent's whole configuration
// as one JSON document (childConfig) in one argument, so that it serves
// exactly what the parent would, and a field added to any of its parts
// reaches it without a line here.

// configFlag is the argument before the child's configuration.
const configFlag = "--config"

// childConfig is what a child or worker serves with.
type childConfig struct {
	// Core is the parent core's configuration, defaults filled in.
	Core httpcore.Config `json:"core"`
	// Serve are the serve options but for the counters and the CGI face,
	// which the child makes from CGI.
	Serve httpconn.ServeOptions `json:"serve"`
	// CGI configures the child's own CGI programs.
	CGI cgi.Options `json:"cgi"`
}

// childArgs returns the argv that starts the hidden subcommand name with
// ctx's configuration.
func childArgs(ctx *RunContext, name string) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%s: find own binary: %w", ctx.Arch.Name, err)
	}
	cc := childConfig{Core: ctx.Core.Config(), Serve: ctx.Options, CGI: ctx.CGI}
	if cc.Core.Root, err = filepath.Abs(cc.Core.Root); err != nil {
		return nil, fmt.Errorf("%s: %w", ctx.Arch.Name, err)
	}
	b, err := json.Marshal(cc)
	if err != nil {
		return nil, fmt.Errorf("%s: encode the child's configuration: %w", ctx.Arch.Name, err)
	}
	return []string{exe, name, configFlag, string(b)}, nil
}

// parseChild reads what childArgs wrote.
func parseChild(name string, args []string) (childConfig, error) {
	var cc childConfig
	if len(args) != 2 || args[0] != configFlag {
		return cc, fmt.Errorf("%s: usage: %s %s JSON (got %q)", name, name, configFlag, args)
	}
	if err := json.Unmarshal([]byte(args[1]), &cc); err != nil {
		return cc, fmt.Errorf("%s: configuration: %w", name, err)
	}
	return cc, nil
}

// startChild parses the child's arguments and builds its core, its CGI
// face and the tracking of its connections (connloop.Track). The caller
// closes the core and, with closeChild, the rest.
func startChild(name string, args []string) (*httpcore.Core, connloop.Options, error) {
	cc, err := parseChild(name, args)
	if err != nil {
		return nil, connloop.Options{}, err
	}
	core, err := httpcore.New(cc.Core)
	if err != nil {
		return nil, connloop.Options{}, fmt.Errorf("%s: %w", name, err)
	}
	opts := connloop.Options{ServeOptions: cc.Serve, Conns: connloop.Track(core)}
	if cc.CGI.Dir != "" { // each child runs its own persistent CGI processes
		opts.CGI = cgi.NewManager(core, cc.CGI)
	}
	return core, opts, nil
}

// closeChild stops a child's CGI processes and its lease watch.
func closeChild(opts connloop.Options) {
	if opts.CGI != nil {
		opts.CGI.Close()
	}
	opts.Conns.Close()
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
