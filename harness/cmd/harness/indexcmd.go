package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"flashbench/harness/report"
)

// indexCommand is `harness index`: rebuilds the results root's index.html
// and index.md from every run.json under it.
func indexCommand() *cli.Command {
	return &cli.Command{
		Name:  "index",
		Usage: "rewrite the results root's index.html and index.md: every archived run, newest first, with its headline ratio and a link to its report",
		Description: "harness run and harness report rewrite the index after each run or report; harness index\n" +
			"rebuilds it from every DIR/<experiment>/<timestamp>/run.json. A run whose run.json does\n" +
			"not read is listed with its error.",
		UsageText: "harness index\n   harness index --out DIR",
		Flags: []cli.Flag{&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "results",
			Usage: "results root `DIR`: read DIR/<experiment>/<timestamp>/run.json, write DIR/index.html and DIR/index.md"}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return cli.Exit(fmt.Sprintf("harness index: want no argument, got %q (the results root is --out DIR)", c.Args().First()), 1)
			}
			root := c.String("out")
			if fi, err := os.Stat(root); err != nil {
				return cli.Exit(fmt.Errorf("harness index: %w", err), 1)
			} else if !fi.IsDir() {
				return cli.Exit(fmt.Sprintf("harness index: %s: not a directory", root), 1)
			}
			md, html, err := report.WriteIndex(root)
			if err != nil {
				return cli.Exit(fmt.Errorf("harness %w", err), 1)
			}
			fmt.Fprintf(c.App.Writer, "%s\n%s\n", md, html)
			return nil
		},
	}
}

// writeIndex rewrites the index of the results root and says where it
// went, or why it did not: a run or report is kept whatever happens to
// the index.
func writeIndex(w io.Writer, root string) {
	md, html, err := report.WriteIndex(root)
	if err != nil {
		fmt.Fprintf(w, "index: %v\n", err)
		return
	}
	fmt.Fprintf(w, "index: %s, %s\n", md, html)
}

// runRoot returns the results root of the run directory dir
// (ROOT/<experiment>/<timestamp>), or "" when dir is not laid out so: its
// parent is not named after run.json's experiment.
func runRoot(dir string) string {
	run, err := report.ReadRun(dir)
	if err != nil {
		return ""
	}
	for _, d := range []string{filepath.Clean(dir), absPath(dir)} {
		if filepath.Base(filepath.Dir(d)) == run.Experiment {
			return filepath.Dir(filepath.Dir(d))
		}
	}
	return ""
}

// absPath is dir made absolute, or dir when it cannot be.
func absPath(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}
