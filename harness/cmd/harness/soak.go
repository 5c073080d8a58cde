package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"flashbench/harness/soak"
	"flashbench/internal/provenance"
)

func soakCommand() *cli.Command {
	return &cli.Command{
		Name: "soak",
		Usage: "run every architecture at once under a long mixed load while faults are injected; " +
			"fail on a leak, a crash or a lost result",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Value: soak.DefaultDuration, Usage: "how long the load runs"},
			&cli.StringFlag{Name: "archs", Value: strings.Join(soak.Archs, ","), Usage: "comma-separated architectures"},
			&cli.StringFlag{Name: "bin", Value: "bin", Usage: "`DIR` with webserver and cgi-bin/ (make build)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output `DIR` (default: results/soak/<UTC timestamp>; the checkout's results/ takes clean builds only, see --allow-dirty)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the fault schedule, the load and the fault targets"},
			&cli.DurationFlag{Name: "interval", Value: soak.DefaultInterval, Usage: "length of one load interval (one result document each)"},
			&cli.StringFlag{Name: "filesets", Value: soak.DefaultFileSetDir, Usage: "`DIR` caching the file set; the run's document root is made there"},
			allowDirtyFlag(),
		},
		Action: soakAction,
	}
}

func soakAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit(fmt.Sprintf("harness soak: unexpected arguments %q", c.Args().Slice()), 1)
	}
	if err := positiveFlags(c, "duration", "interval"); err != nil {
		return cli.Exit(err, 1)
	}
	o := soak.Options{BinDir: c.String("bin"), OutDir: c.String("output"), FileSetDir: c.String("filesets"),
		Archs: strings.Split(c.String("archs"), ","), Duration: c.Duration("duration"),
		Interval: c.Duration("interval"), Seed: c.Uint64("seed"), Log: c.App.ErrWriter,
		Archive: provenance.ArchiveDir(), AllowDirty: c.Bool("allow-dirty")}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
			fmt.Fprintln(c.App.ErrWriter, "harness soak: interrupted: stopping the load and the servers, keeping the results")
			stop() // a second Ctrl-C ends the harness at once
		case <-finished:
		}
	}()
	rep, err := soak.Run(ctx, o)
	if rep != nil {
		fmt.Fprintln(c.App.Writer)
		if werr := rep.WriteText(c.App.Writer); werr != nil && err == nil {
			err = werr
		}
	}
	switch {
	case err != nil:
		return cli.Exit(err, 1)
	case rep.Interrupted:
		return cli.Exit("harness soak: interrupted", 130)
	case !rep.Passed:
		return cli.Exit(fmt.Sprintf("harness soak: failed: %d failures (the FAIL lines above)", len(rep.Failures)), 1)
	}
	return nil
}
