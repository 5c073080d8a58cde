package main

import (
	"github.com/urfave/cli/v2"

	"flashbench/servers/forking"
	"flashbench/servers/internal/proctree"
)

var maxChildren int

func init() {
	registerArch(Arch{
		Name:    "forking",
		Summary: "a new process per connection (NCSA-style MP); the binary re-executes itself per connection, since Go cannot fork without exec",
		Flags: []cli.Flag{&cli.IntFlag{Name: "max-children", Value: forking.DefaultMaxChildren,
			Usage: "forking: most child processes alive at once (--max-conns lowers it); beyond it accepting waits", Destination: &maxChildren}},
		Wait: WaitChildren,
		Run:  runForking,
	})
	registerHidden("forking-child", forkingChild)
}

// runForking accepts connections and serves each in a child running
// `webserver forking-child --root DIR ...` with the socket at fd 3.
func runForking(ctx *RunContext) error {
	cmd, err := childArgs(ctx, "forking-child")
	if err != nil {
		return err
	}
	limit := processBound(maxChildren, ctx.Options.MaxConns)
	s, err := forking.New(ctx.Listener, forking.Options{Children: proctree.Children{Command: cmd}, MaxChildren: limit, Stats: ctx.Stats})
	if err != nil {
		return err
	}
	ctx.Stats.AddSource("forking", func() any {
		return map[string]any{
			"children_started":    s.Started(),
			"children_failed":     s.Failed(),
			"max_children":        limit,
			"peak_tree_processes": s.PeakMemory().Processes,
		}
	})
	return serveProcs(ctx, s, s.PeakMemory)
}

// forkingChild serves the connection at fd 3 and exits. A connection
// that ends in an error (a client reset, a timeout) is not the child's
// failure: like the other blocking loops, it is dropped, not printed.
func forkingChild(args []string) error {
	core, opts, err := startChild("forking-child", args)
	if err != nil {
		return err
	}
	defer core.Close()
	defer closeChild(opts)
	forking.ChildMain(core, opts)
	return nil
}
