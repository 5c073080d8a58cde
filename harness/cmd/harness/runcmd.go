package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"flashbench/harness"
	"flashbench/harness/report"
	"flashbench/internal/provenance"
)

var harnessExperiments = harness.Experiments

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run experiments (built-in names or .toml files) one after another and archive their results",
		ArgsUsage: "EXPERIMENT [EXPERIMENT...]",
		Flags: append(topologyFlags(),
			&cli.StringFlag{Name: "archs", Usage: "comma-separated architectures instead of the experiment's"},
			&cli.StringFlag{Name: "values", Usage: "comma-separated values of the experiment's sweep to measure instead of all, as the experiment writes them (e.g. 268435456,536870912)"},
			&cli.IntFlag{Name: "trials", Usage: "trials per point, 1 to 100", DefaultText: "the experiment's"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "measurement per trial, positive", DefaultText: "the experiment's"},
			&cli.DurationFlag{Name: "warmup", Usage: "warm-up per server, positive", DefaultText: "the experiment's"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "results", Usage: "results root `DIR`: the run goes to DIR/<experiment>/<timestamp>; the checkout's results/ takes clean builds only (see --allow-dirty)"},
			&cli.StringFlag{Name: "bin", Value: "", Usage: "`DIR` with webserver, loadgen, fileset and slowdisk (default: build them into the checkout's bin/)"},
			&cli.StringFlag{Name: "base", Usage: "compare with the webserver built from git revision `REV` of this checkout: every webserver architecture also runs from that build as ARCH@base, in the same rounds, and the summary and report give each ARCH/ARCH@base (local and netns topologies)"},
			&cli.StringFlag{Name: "filesets", Value: "/var/tmp/flashbench/filesets", Usage: "`DIR` caching the file sets (readable by www-data)"},
			&cli.BoolFlag{Name: "allow-saturated-client", Usage: "keep points whose client was saturated (marked) instead of failing them"},
			serverCPUFlag(),
			&cli.BoolFlag{Name: "quick", Usage: "tiny durations and one trial, for tests"},
			&cli.IntFlag{Name: "syscalls", Usage: "after the measured rounds, count each contender's system calls with strace over `N` requests (0: none)", DefaultText: "the experiment's [syscalls] requests"},
			&cli.BoolFlag{Name: "no-report", Usage: "do not write the report, nor the results root's index.html and index.md, after the run"},
			allowDirtyFlag(),
		),
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.Exit("harness run: want an experiment (see harness list)", 1)
	}
	if err := positiveFlags(c, "trials", "duration", "warmup"); err != nil {
		return cli.Exit(err, 1)
	}
	var exps []*harness.Experiment
	for _, name := range c.Args().Slice() {
		e, err := harness.LookupExperiment(name)
		if err != nil {
			return cli.Exit(err, 1)
		}
		exps = append(exps, e)
	}
	serverCPU, err := serverCPU(c)
	if err != nil {
		return err
	}
	// Ctrl-C is caught from here on, so that one during the set-up (the
	// namespaces, the build) still ends in the clean-up below.
	ctx, release := catchInterrupt(c)
	defer release()
	topo, hosts, err := newTopology(c)
	if err != nil {
		if ctx.Err() != nil {
			return cli.Exit("harness: interrupted before the run started", 130)
		}
		return cli.Exit(err, 1)
	}
	// Namespaces, remote directories and connections go on every way out,
	// a panic included; a second Ctrl-C leaves namespaces to the sweep of
	// the next netns run.
	defer func() {
		if err := topo.Close(); err != nil {
			fmt.Fprintln(c.App.ErrWriter, err)
		}
	}()
	bin, err := binaries(c.String("bin"), c.App.ErrWriter)
	if ctx.Err() != nil {
		return cli.Exit("harness: interrupted before the run started", 130)
	}
	if err != nil {
		return cli.Exit(err, 1)
	}
	var base string
	if rev := c.String("base"); rev != "" {
		dir, err := baseBuild(rev, c.App.ErrWriter)
		if dir != "" {
			defer os.RemoveAll(dir)
		}
		if ctx.Err() != nil {
			return cli.Exit("harness: interrupted before the run started", 130)
		}
		if err != nil {
			return cli.Exit(err, 1)
		}
		base = filepath.Join(dir, "bin")
	}
	o := harness.Options{Topology: topo, BinDir: bin, OutDir: c.String("out"),
		FileSetDir: c.String("filesets"), Trials: c.Int("trials"), Duration: c.Duration("duration"),
		Warmup: c.Duration("warmup"), ServerCPU: serverCPU, Quick: c.Bool("quick"), AllowSaturatedClient: c.Bool("allow-saturated-client"), Log: c.App.ErrWriter, Hosts: hosts,
		Archive: provenance.ArchiveDir(), AllowDirty: c.Bool("allow-dirty"), BaseBinDir: base}
	if a := c.String("archs"); a != "" {
		o.Archs = strings.Split(a, ",")
	}
	if v := c.String("values"); v != "" {
		o.Values = strings.Split(v, ",")
	}
	if c.IsSet("syscalls") {
		n := c.Int("syscalls")
		o.Syscalls = &n
	}
	if isTerminal(c.App.ErrWriter) {
		o.Progress = c.App.ErrWriter
	}
	if len(exps) == 1 {
		o.Experiment = exps[0]
		_, err := runOne(ctx, c, c.App.Writer, o)
		return err
	}
	return runSeveral(ctx, c, o, exps)
}

// runOne runs and archives o's experiment and writes its summary to w; dir
// is where the run went ("" when it did not start).
func runOne(ctx context.Context, c *cli.Context, w io.Writer, o harness.Options) (dir string, err error) {
	start := time.Now()
	out, err := harness.Execute(ctx, o)
	var skip *harness.SkipError
	if errors.As(err, &skip) {
		fmt.Fprintln(w, skip.Reason)
		return "", nil
	}
	if out == nil {
		return "", cli.Exit(err, 1)
	}
	return out.Dir, finish(c, w, o.Experiment, out, err, time.Since(start))
}

// runSeveral runs the experiments one after another, then reports on them
// together in the first run's directory (which records the others as its
// related runs): the seed paper's table first when they hold its
// experiments, then each run's summary. A run that fails ends the
// sequence; what the runs before it measured is printed all the same.
func runSeveral(ctx context.Context, c *cli.Context, o harness.Options, exps []*harness.Experiment) error {
	var summaries bytes.Buffer
	var dirs []string
	var err error
	for _, e := range exps {
		o.Experiment = e
		var dir string
		if dir, err = runOne(ctx, c, &summaries, o); dir != "" {
			dirs = append(dirs, dir)
		}
		if err != nil {
			break
		}
	}
	w := c.App.Writer
	if len(dirs) > 1 && !c.Bool("no-report") {
		if rerr := harness.RelateRuns(dirs[0], dirs[1:]...); rerr != nil {
			fmt.Fprintf(w, "report: %v\n", rerr)
		} else if md, html, rerr := writeReport(dirs[0]); rerr != nil {
			fmt.Fprintf(w, "report: %v\n", rerr)
		} else {
			fmt.Fprintln(w)
			if serr := report.WriteSeedTable(w, dirs...); serr != nil {
				fmt.Fprintf(w, "%v\n", serr)
			}
			defer fmt.Fprintf(w, "\nreport of the %d runs together: %s, %s\n", len(dirs), md, html)
		}
	}
	w.Write(summaries.Bytes())
	return err
}

// positiveFlags refuses an explicit value of 0 or less for the named int
// or duration flags, whose zero value means "the default" to the library:
// left out, they take the default; given, they must be positive.
func positiveFlags(c *cli.Context, names ...string) error {
	for _, n := range names {
		if !c.IsSet(n) {
			continue
		}
		switch v := c.Value(n).(type) {
		case int:
			if v <= 0 {
				return fmt.Errorf("%s: --%s %d: must be positive", c.Command.HelpName, n, v)
			}
		case time.Duration:
			if v <= 0 {
				return fmt.Errorf("%s: --%s %v: must be positive", c.Command.HelpName, n, v)
			}
		}
	}
	return nil
}

// catchInterrupt returns a context the first Ctrl-C or SIGTERM cancels,
// saying so on stderr; the second ends the harness at once. Call release
// when the run is over.
func catchInterrupt(c *cli.Context) (ctx context.Context, release func()) {
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			fmt.Fprintln(c.App.ErrWriter, "harness: interrupted: stopping the servers and keeping the finished points")
			stop()
		case <-finished:
		}
	}()
	return ctx, func() {
		close(finished)
		stop()
	}
}

// finish prints the table and where the run went, and writes the report
// and the results root's index.
func finish(c *cli.Context, w io.Writer, e *harness.Experiment, out *harness.Outcome, err error, took time.Duration) error {
	fmt.Fprintln(w)
	if werr := harness.WriteSummary(w, e, out); werr != nil && err == nil {
		err = werr
	}
	fmt.Fprintf(w, "\n%d points in %s", len(out.Index.Points), took.Round(time.Second))
	if out.Index.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintf(w, "\nresults: %s\n", out.Dir)
	if !c.Bool("no-report") && err == nil {
		if md, html, rerr := writeReport(out.Dir); rerr != nil {
			fmt.Fprintf(w, "report: %v\n", rerr)
		} else {
			fmt.Fprintf(w, "report: %s, %s, plots in %s\n", md, html, filepath.Join(out.Dir, "plots"))
		}
	}
	if !c.Bool("no-report") {
		writeIndex(w, c.String("out"))
	}
	if err != nil {
		return cli.Exit(err, 1)
	}
	if out.Index.Interrupted {
		return cli.Exit("harness: run interrupted", 130)
	}
	return nil
}

// binaries returns the directory holding webserver, loadgen, fileset and
// slowdisk (the device of the [disk] experiments): dir when given, else
// the checkout's bin/ after building them into it.
func binaries(dir string, stderr io.Writer) (string, error) {
	if dir != "" {
		return dir, nil
	}
	root, err := provenance.ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("harness: %w: give --bin DIR with webserver and loadgen", err)
	}
	bin := filepath.Join(root, "bin")
	// -buildvcs=auto over a GOFLAGS that may turn it off: the documents
	// take the commit from the programs' build information.
	cmd := exec.Command("go", "build", "-buildvcs=auto", "-o", bin+"/", "./servers/cmd/...", "./loadgen/cmd/loadgen",
		"./fileset/cmd/fileset", "./servers/bench/slowdisk")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, stderr, stderr
	cmd.Env = staticBuild
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("harness: build: %w", err)
	}
	return bin, nil
}

// staticBuild is the environment of the harness's builds: static
// binaries, as make build makes them (a forking child starts once per
// connection, without the dynamic loader).
var staticBuild = append(os.Environ(), "CGO_ENABLED=0")

// baseBuild builds the servers (servers/cmd/...: the webserver and the
// programs it starts) of git revision rev of the checkout into
// a temporary directory's bin/, and its CGI programs (cgi-apps/cmd/...)
// into bin/cgi-bin/, where its webserver looks for them as make build
// lays them out, and returns that directory (remove it when
// done; "" when none was made). The revision is checked out in a clone of
// its own, so the build carries its commit as the checkout's builds do
// and the working tree is left alone.
func baseBuild(rev string, stderr io.Writer) (string, error) {
	root, err := provenance.ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("harness: --base: %w", err)
	}
	out, err := exec.Command("git", "-C", root, "rev-parse", "--verify", "--quiet", rev+"^{commit}").Output()
	if err != nil {
		return "", fmt.Errorf("harness: --base: %q is not a commit of %s", rev, root)
	}
	commit := strings.TrimSpace(string(out))
	dir, err := os.MkdirTemp("", "flashbench-base-")
	if err != nil {
		return "", fmt.Errorf("harness: --base: %w", err)
	}
	src := filepath.Join(dir, "src")
	for _, args := range [][]string{
		{"git", "clone", "--quiet", "--shared", "--no-checkout", root, src},
		{"git", "-C", src, "checkout", "--quiet", "--detach", commit},
		{"go", "build", "-buildvcs=auto", "-o", filepath.Join(dir, "bin") + "/", "./servers/cmd/..."},
		{"go", "build", "-buildvcs=auto", "-o", filepath.Join(dir, "bin", "cgi-bin") + "/", "./cgi-apps/cmd/..."},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = src, stderr, stderr
		if args[0] == "git" {
			cmd.Dir = ""
		} else {
			cmd.Env = staticBuild
		}
		if err := cmd.Run(); err != nil {
			return dir, fmt.Errorf("harness: --base %s: %s: %w", rev, strings.Join(args[:2], " "), err)
		}
	}
	return dir, nil
}

// allowDirtyFlag is --allow-dirty, of run and soak.
func allowDirtyFlag() cli.Flag {
	return &cli.BoolFlag{Name: "allow-dirty", Usage: "archive into the checkout's results/ a run whose build is not clean " +
		"(binaries from a modified tree, from different commits or without version-control information); its documents are marked dirty"}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
