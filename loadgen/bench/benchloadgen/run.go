package main

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"flashbench/internal/cliutil"
)

// options are benchloadgen's flags.
type options struct {
	bin, out               string
	allowDirty             bool
	conns, idleConns       int
	duration, idleDuration time.Duration
	serverCore, clientCore int
	stdout                 io.Writer
}

func run(args []string, stdout, stderr io.Writer) error {
	app := &cli.App{
		Name:      "benchloadgen",
		Usage:     "compare loadgen with wrk on nginx and archive the runs",
		UsageText: "benchloadgen [--bin DIR] [--out DIR] [--connections N] [--duration D]",
		Writer:    stdout, ErrWriter: stderr,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "bin", Value: "bin", Usage: "`DIR` holding loadgen"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "results", Usage: "results root `DIR`: the run goes to DIR/bench-loadgen/<timestamp>; the checkout's results/ takes clean builds only (see --allow-dirty)"},
			&cli.BoolFlag{Name: "allow-dirty", Usage: "archive into the checkout's results/ a run whose build is not clean; its documents are marked dirty"},
			&cli.IntFlag{Name: "connections", Aliases: []string{"c"}, Value: 64, Usage: "connections of every comparison run"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Value: 5 * time.Second, Usage: "length of every comparison run"},
			&cli.IntFlag{Name: "idle-connections", Value: 10000, Usage: "keep-alive connections of the memory run (0: no memory run)"},
			&cli.DurationFlag{Name: "idle-duration", Value: 3 * time.Second, Usage: "length of the memory runs"},
			&cli.IntFlag{Name: "server-core", Value: 0, Usage: "CPU nginx is pinned to"},
			&cli.IntFlag{Name: "client-core", Value: 1, Usage: "CPU wrk and loadgen are pinned to"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return cliutil.UsageError(c, fmt.Errorf("unexpected argument %q", c.Args().First()), false)
			}
			o := options{bin: c.String("bin"), out: c.String("out"), conns: c.Int("connections"),
				duration: c.Duration("duration"), idleConns: c.Int("idle-connections"), idleDuration: c.Duration("idle-duration"),
				serverCore: c.Int("server-core"), clientCore: c.Int("client-core"), allowDirty: c.Bool("allow-dirty"), stdout: stdout}
			if err := o.validate(); err != nil {
				return cliutil.UsageError(c, err, false)
			}
			dir, err := bench(o)
			if dir != "" {
				fmt.Fprintf(stdout, "results: %s\n", dir)
			}
			return err
		},
	}
	cliutil.OneLineUsage(app)
	err := app.Run(args)
	if err == nil {
		return nil
	}
	if cliutil.IsUsage(err) {
		return fmt.Errorf("benchloadgen: %w", err)
	}
	return cli.Exit(fmt.Sprintf("benchloadgen: %v", err), 1)
}

func (o options) validate() error {
	switch {
	case o.conns <= 0:
		return fmt.Errorf("--connections %d: must be positive", o.conns)
	case o.duration < time.Second || o.duration%time.Second != 0:
		return fmt.Errorf("--duration %v: want whole seconds, at least 1s (wrk reads no finer)", o.duration)
	case o.idleDuration <= 0:
		return fmt.Errorf("--idle-duration %v: must be positive", o.idleDuration)
	case o.idleConns != 0 && o.idleConns <= smallConns:
		return fmt.Errorf("--idle-connections %d: want 0 (no memory run) or more than %d", o.idleConns, smallConns)
	case o.serverCore < 0 || o.clientCore < 0:
		return fmt.Errorf("--server-core %d, --client-core %d: want CPU numbers", o.serverCore, o.clientCore)
	}
	return nil
}
