package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"flashbench/harness/compare"
	"flashbench/harness/report"
)

// reportCommand is `harness report DIR...`: report.md, report.html and
// plots for one run (written into it, and the index of its results root
// rewritten) or several (merged, written to --output).
func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write report.md, report.html and plots/ for archived runs",
		ArgsUsage: "DIR...",
		UsageText: "harness report results/hotos97/20250314T150926Z\n   harness report -o DIR RUN_DIR RUN_DIR...",
		Flags: []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"},
			Usage: "write the report into `DIR` (default: the run directory; required with several)"}},
		Action: func(c *cli.Context) error {
			dirs := c.Args().Slice()
			out := c.String("output")
			switch {
			case len(dirs) == 0:
				return cli.Exit("harness report: want at least one run directory (see --help)", 1)
			case out == "" && len(dirs) > 1:
				return cli.Exit("harness report: several run directories need --output DIR", 1)
			case out == "":
				out = dirs[0]
			}
			md, html, err := report.WriteDirs(out, dirs...)
			if err != nil {
				return cli.Exit(fmt.Errorf("harness %w", err), 1)
			}
			fmt.Fprintf(c.App.Writer, "%s\n%s\nplots in %s\n", md, html, filepath.Join(out, "plots"))
			if len(dirs) == 1 && out == dirs[0] {
				if root := runRoot(out); root != "" {
					writeIndex(c.App.Writer, root)
				}
			}
			return nil
		},
	}
}

// compareCommand is `harness compare A B`: every metric of every group,
// old against new, with confidence intervals and significance.
func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare two runs (run directories or result documents) metric by metric",
		ArgsUsage: "OLD NEW",
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return cli.Exit(fmt.Sprintf("harness compare: want two runs, OLD and NEW, got %d argument(s)", c.NArg()), 1)
			}
			t, err := compare.Paths(c.Args().Get(0), c.Args().Get(1))
			if err != nil {
				return cli.Exit(fmt.Errorf("harness %w", err), 1)
			}
			if err := t.Format(c.App.Writer); err != nil {
				return cli.Exit(fmt.Errorf("harness %w", err), 1)
			}
			return nil
		},
	}
}
