// Command benchratio summarises a bench-servers run: it reads the client
// results of every measurement in a directory, named
// CASE.SERVER.ROUND.json (loadgen's result documents, or any JSON with
// throughput_rps and errors_total), and prints each case's median
// requests/s per server with the spread over the rounds, then the ratios
// of medians the targets name and whether each target is met.
//
//	benchratio --servers nginx,sped,amped,null \
//	    --target '500b-keepalive:sped/nginx>=1.2' DIR
//
// Ratios of medians measured side by side in one run are what a shared,
// noisy machine can compare; absolute numbers drift from run to run.
package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"flashbench/internal/cliutil"
)

func main() { cliutil.Main(run) }

// run is the whole command, testable in-process.
func run(args []string, stdout, stderr io.Writer) error {
	app := &cli.App{
		Name:            "benchratio",
		Usage:           "median requests/s per case and server, and the ratios the targets name",
		UsageText:       "benchratio [--servers A,B,...] [--cases C,D,...] [--target CASE:A/B>=X ...] DIR",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError:    cliutil.UsageError, // a bad flag is one line, as in every flashbench command
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "servers", Usage: "column order, comma-separated (default: the order names sort in)"},
			&cli.StringFlag{Name: "cases", Usage: "row order, comma-separated (default: the order names sort in)"},
			&cli.StringSliceFlag{Name: "target", Usage: "a ratio to print: `CASE:A/B>=X` (median of A over median of B in CASE, target X)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return errors.New("want one directory of results (see --help)")
			}
			var targets []Target
			for _, s := range c.StringSlice("target") {
				t, err := ParseTarget(s)
				if err != nil {
					return err
				}
				targets = append(targets, t)
			}
			ms, err := ReadDir(c.Args().First())
			if err != nil {
				return err
			}
			s := Summarise(ms)
			if c.String("cases") != "" {
				s.Cases = ordered(s.Cases, strings.Split(c.String("cases"), ","))
			}
			var order []string
			if c.String("servers") != "" {
				order = strings.Split(c.String("servers"), ",")
			}
			return Print(stdout, s, order, targets)
		},
	}
	if err := app.Run(args); err != nil {
		return fmt.Errorf("benchratio: %w", err)
	}
	return nil
}
