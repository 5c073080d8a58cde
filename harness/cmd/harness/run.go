package main

import (
	"errors"
	"flashbench/internal/cliargs"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"flashbench/internal/cliutil"
)

// run is the whole command: args are os.Args, and a non-nil error means a
// non-zero exit status (2 for a bad flag) with that one line.
func run(args []string, stdout, stderr io.Writer) error {
	app := &cli.App{
		Name:            "harness",
		Usage:           "run flashbench experiments end to end and archive their results",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Commands:        []*cli.Command{listCommand(), runCommand(), reportCommand(), indexCommand(), compareCommand(), soakCommand()},
		ExitErrHandler:  func(*cli.Context, error) {},
	}
	cliutil.OneLineUsage(app) // a bad flag is one line and exit status 2, in every subcommand too
	err := app.Run(reorder(args, runCommand()))
	if err == nil {
		return nil
	}
	if cliutil.IsUsage(err) {
		return fmt.Errorf("harness: %w", err)
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return err
	}
	return cli.Exit(err, 1)
}

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the built-in experiments, one line each",
		Action: func(c *cli.Context) error {
			all, err := harnessExperiments()
			if err != nil {
				return cli.Exit(err, 1)
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
			for _, e := range all {
				fmt.Fprintf(tw, "%s\t%s (%s)\n", e.Name, e.Description, e.Figure)
			}
			return tw.Flush()
		},
	}
}

// reorder moves the experiment name of `harness run NAME --flags` after
// the flags, where urfave/cli expects positional arguments.
func reorder(args []string, cmd *cli.Command) []string {
	if len(args) < 3 || args[1] != cmd.Name {
		return args
	}
	return append(append([]string{}, args[:2]...), cliargs.Reorder(cmd.Flags, args[2:])...)
}
