package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"flashbench/servers/amped"
)

// The helper flags, amped's and flashlite's own.
var (
	helpers       int
	helperTimeout = amped.DefaultTimeout

	helperFlags = []cli.Flag{
		&cli.IntFlag{Name: "helpers", Usage: "amped, flashlite: helper processes; 0 means the architecture's default", Destination: &helpers,
			Action: func(_ *cli.Context, n int) error {
				if n < 0 {
					return fmt.Errorf("--helpers %d: must not be negative", n)
				}
				return nil
			}},
		&cli.DurationFlag{Name: "helper-timeout", Value: amped.DefaultTimeout, Destination: &helperTimeout,
			Usage: "amped, flashlite: longest a helper may take over one job before it is killed and the job retried once or answered 503; 0 means no bound",
			Action: func(_ *cli.Context, d time.Duration) error {
				if d < 0 {
					return fmt.Errorf("--helper-timeout %v: must not be negative", d)
				}
				return nil
			}},
	}
)

func init() {
	registerArch(Arch{
		Name:     "amped",
		Summary:  "Flash: SPED plus helper processes that do the disk work (translation misses, non-resident data)",
		MaxProcs: 1,
		Flags:    helperFlags,
		Run:      runAmped,
	})
	registerHidden("amped-helper", ampedHelper)
}

// runAmped serves with helpers re-executing this binary as
// `webserver amped-helper --root DIR`.
func runAmped(ctx *RunContext) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("amped: find own binary: %w", err)
	}
	root, err := filepath.Abs(ctx.Core.Config().Root)
	if err != nil {
		return fmt.Errorf("amped: %w", err)
	}
	popts := amped.PoolOptions{Helpers: helpers, Command: []string{exe, "amped-helper", "--root", root}, Timeout: helperTimeout}
	if popts.Timeout == 0 {
		popts.Timeout = -1 // --helper-timeout 0: no bound
	}
	s, err := amped.New(ctx.Listener, ctx.Core, ctx.Options, popts)
	if err != nil {
		return err
	}
	ctx.Stats.AddSource(ctx.Arch.Name, func() any { return s.Stats() })
	return ctx.Serve(s)
}

// ampedHelper is a helper process: jobs on standard input, completions on
// standard output.
func ampedHelper(args []string) error {
	fs := flag.NewFlagSet("amped-helper", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	root := fs.String("root", "", "document root")
	if err := fs.Parse(args); err != nil || *root == "" || fs.NArg() > 0 {
		return fmt.Errorf("amped-helper: usage: amped-helper --root DIR")
	}
	return amped.HelperMain(*root, os.Stdin, os.Stdout)
}
