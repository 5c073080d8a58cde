package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"flashbench/servers/amped"
)

func init() {
	registerArch(Arch{
		Name:     "amped",
		Summary:  "Flash: SPED plus helper processes that do the disk work (translation misses, non-resident data)",
		MaxProcs: 1,
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
	popts := amped.PoolOptions{Helpers: ctx.Helpers, Command: []string{exe, "amped-helper", "--root", root}, Timeout: ctx.HelperTimeout}
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
