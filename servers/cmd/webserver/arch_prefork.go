package main

import (
	"github.com/urfave/cli/v2"

	"flashbench/servers/internal/child"
	"flashbench/servers/internal/proctree"
	"flashbench/servers/prefork"
)

var workers int

func init() {
	registerArch(Arch{
		Name:    "prefork",
		Summary: "N single-threaded worker processes on one listener (Apache prefork MP), respawned when they die",
		Flags: []cli.Flag{&cli.IntFlag{Name: "workers", Value: prefork.DefaultWorkers,
			Usage: "prefork: worker processes (--max-conns lowers it, as Apache's MaxRequestWorkers)", Destination: &workers}},
		Wait: WaitChildren,
		Run:  runPrefork,
	})
	registerHidden("prefork-worker", preforkWorker)
}

// runPrefork starts the workers, each `webserver prefork-worker --root
// DIR ...` with the listener at fd 3, and keeps the pool full.
func runPrefork(ctx *RunContext) error {
	cmd, err := hiddenArgs(ctx, "prefork-worker")
	if err != nil {
		return err
	}
	s, err := prefork.New(ctx.Listener, prefork.Options{Workers: processBound(workers, ctx.Options.MaxConns),
		Children: proctree.Children{Command: cmd, Stderr: ctx.Stderr}, Stats: ctx.Stats})
	if err != nil {
		return err
	}
	ctx.Stats.AddSource("prefork", func() any {
		return map[string]any{
			"workers":             s.Size(),
			"worker_restarts":     s.Restarts(),
			"peak_tree_processes": s.PeakMemory().Processes,
		}
	})
	return serveProcs(ctx, s, s.PeakMemory)
}

// preforkWorker serves the listener at fd 3 until SIGTERM.
func preforkWorker(args []string) error {
	core, opts, err := child.Start("prefork-worker", args)
	if err != nil {
		return err
	}
	defer core.Close()
	defer child.Close(opts)
	return prefork.WorkerMain(core, opts)
}
