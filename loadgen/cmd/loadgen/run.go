package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"flashbench/fileset"
	"flashbench/internal/atomicfile"
	"flashbench/internal/cliutil"
	"flashbench/loadgen"
	"flashbench/results"
)

// run is the whole command: args are os.Args, output goes to stdout and
// stderr, and a non-nil error means a non-zero exit status (2 for a bad
// flag, else 1) with that one line.
func run(args []string, stdout, stderr io.Writer) error {
	app := newApp(stdout, stderr)
	err := app.Run(reorder(app, args))
	if err == nil {
		return nil
	}
	if cliutil.IsUsage(err) {
		return fmt.Errorf("loadgen: %w", err)
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return err
	}
	return cli.Exit(err, 1)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:            "loadgen",
		Usage:           "closed- and open-loop HTTP load generator with HdrHistogram latencies",
		UsageText:       "loadgen [options] URL\n   loadgen merge A.json B.json ... -o C.json",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           flags(),
		Action:          attack,
		Commands: []*cli.Command{{
			Name:      "merge",
			Usage:     "merge the results of several client machines into one, histograms losslessly",
			UsageText: "loadgen merge A.json B.json ... -o C.json",
			Flags: []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true,
				Usage: "write the merged result document to `FILE`"}},
			Action: merge,
		}},
		// Errors are returned to main, never turned into os.Exit here.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	cliutil.OneLineUsage(app) // a bad flag is one line and exit status 2, in merge too
	return app
}

// attack runs a load and reports it.
func attack(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit(fmt.Sprintf("loadgen: want exactly one URL argument, got %d (see --help)", c.NArg()), 1)
	}
	cfg, paths, err := config(c)
	if err != nil {
		return cli.Exit(err, 1)
	}
	// Everything that would refuse the run or lose its result is checked
	// before the run, not after it.
	if err := cfg.Validate(); err != nil {
		return cli.Exit(err, 1)
	}
	if err := checkOutputs(c); err != nil {
		return cli.Exit(fmt.Errorf("loadgen: %w", err), 1)
	}
	if err := loadgen.Preflight(cfg.URL); err != nil {
		return unreachable(c, cfg, paths, err)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if isTerminal(c.App.ErrWriter) {
		cfg.Progress = func(p loadgen.Progress) { progress(c.App.ErrWriter, p) }
	}
	fmt.Fprintf(c.App.Writer, "Running %s test @ %s\n", runLength(&cfg), cfg.URL)
	stopProfile, err := cliutil.StartCPUProfile(c.String("cpu-profile"))
	if err != nil {
		return cli.Exit("loadgen: "+err.Error(), 1)
	}
	rep, err := loadgen.Run(ctx, cfg)
	if perr := stopProfile(); err == nil && perr != nil {
		err = fmt.Errorf("loadgen: %w", perr)
	}
	if cfg.Progress != nil {
		fmt.Fprint(c.App.ErrWriter, "\r\033[K")
	}
	if err != nil {
		return cli.Exit(err, 1)
	}
	stop()
	if err := loadgen.WriteSummary(c.App.Writer, rep); err != nil {
		return cli.Exit(fmt.Errorf("loadgen: summary: %w", err), 1)
	}
	if rep.Requests == 0 {
		// A run that measured nothing is a failure; its note is the line.
		return failed(c, rep, paths, errors.New("loadgen: "+rep.Note))
	}
	if rep.Note != "" {
		fmt.Fprintf(c.App.ErrWriter, "loadgen: %s\n", rep.Note)
	}
	if err := writeOutputs(c, rep, paths); err != nil {
		return cli.Exit(fmt.Errorf("loadgen: %w", err), 1)
	}
	return nil
}

// unreachable ends a run whose server could not be reached: one error
// line, and the outputs asked for all the same (the failed attempt
// counted by class, the note saying why), so a script or the harness
// keeps a document of what happened.
func unreachable(c *cli.Context, cfg loadgen.Config, paths loadgen.Paths, perr error) error {
	err := fmt.Errorf("loadgen: server unreachable: %w", perr)
	rep, rerr := loadgen.Unreachable(cfg, perr)
	if rerr != nil {
		return cli.Exit(fmt.Sprintf("%v; and the outputs: %v", err, rerr), 1)
	}
	return failed(c, rep, paths, err)
}

// failed ends a run that failed with err: the outputs asked for are
// written all the same, so that a script or the harness keeps a document
// of what happened, and err is the line (with the outputs' error, if
// they could not be written).
func failed(c *cli.Context, rep *loadgen.Report, paths loadgen.Paths, err error) error {
	if werr := writeOutputs(c, rep, paths); werr != nil {
		return cli.Exit(fmt.Sprintf("%v; and the outputs: %v", err, werr), 1)
	}
	return cli.Exit(err, 1)
}

// writeOutputs writes the result document and the interval log, each
// atomically: a full disk or a crash leaves the earlier file, never half
// of a new one. Its errors lack the command's prefix.
func writeOutputs(c *cli.Context, rep *loadgen.Report, paths loadgen.Paths) error {
	if out := c.String("output"); out != "" {
		res, err := rep.Result(paths)
		if err == nil {
			err = results.Write(out, res)
		}
		if err != nil {
			return err
		}
	}
	if out := c.String("hdr-log"); out != "" {
		var buf bytes.Buffer
		if err := loadgen.WriteHdrLog(&buf, rep); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(out, buf.Bytes()); err != nil {
			return fmt.Errorf("hdr log %s: %w", out, err)
		}
	}
	return nil
}

// checkOutputs checks that the outputs asked for can be written where
// they are to go, so that no run is made whose result could not be kept.
func checkOutputs(c *cli.Context) error {
	for _, name := range []string{"output", "hdr-log"} {
		if out := c.String(name); out != "" {
			if err := atomicfile.Check(out); err != nil {
				return fmt.Errorf("--%s %w", name, err)
			}
		}
	}
	return nil
}

// config turns the flags into the library's configuration.
func config(c *cli.Context) (loadgen.Config, loadgen.Paths, error) {
	cfg := loadgen.Config{
		URL: c.Args().First(), Connections: c.Int("connections"), Threads: c.Int("threads"),
		Duration: c.Duration("duration"), Warmup: c.Duration("warmup"), Requests: c.Int64("requests"),
		RequestsPerConn: c.Int("requests-per-conn"), Pipeline: c.Int("pipeline"),
		ThinkTime: c.Duration("think-time"), Rate: c.Float64("rate"), Timeout: c.Duration("timeout"),
		ConnectTimeout: c.Duration("connect-timeout"), SClient: c.Bool("sclient"),
		Verify: c.Bool("verify"), CloseWithReset: c.Bool("close-with-reset"), Seed: c.Uint64("seed"),
	}
	if c.Float64("rate") > 0 {
		cfg.Arrival = c.String("arrival")
	}
	if c.IsSet("requests") && !c.IsSet("duration") {
		cfg.Duration = 0
	}
	paths := loadgen.Paths{Manifest: c.String("manifest"), URLs: c.String("urls"), Trace: c.String("trace")}
	for _, s := range c.StringSlice("source") {
		for _, part := range strings.Split(s, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(part))
			if err != nil {
				return cfg, paths, fmt.Errorf("loadgen: bad --source address %q", part)
			}
			cfg.Sources = append(cfg.Sources, a)
		}
	}
	var err error
	cfg.Workload, err = workload(paths)
	return cfg, paths, err
}

func workload(p loadgen.Paths) (loadgen.Workload, error) {
	n := 0
	for _, s := range []string{p.Manifest, p.URLs, p.Trace} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, errors.New("loadgen: --manifest, --urls and --trace exclude each other")
	case p.Manifest != "":
		m, err := fileset.ReadManifest(p.Manifest)
		if err != nil {
			return nil, err
		}
		return loadgen.NewManifest(m)
	case p.URLs != "":
		return loadgen.ReadURLList(p.URLs)
	case p.Trace != "":
		return loadgen.ReadTrace(p.Trace)
	}
	return nil, nil
}

// merge merges result documents.
func merge(c *cli.Context) error {
	if c.NArg() < 1 {
		return cli.Exit("loadgen: merge: want at least one result file", 1)
	}
	var rs []*results.Result
	for _, path := range c.Args().Slice() {
		r, err := results.Read(path)
		if err != nil {
			return cli.Exit(fmt.Errorf("loadgen: merge: %w", err), 1)
		}
		rs = append(rs, r)
	}
	out, err := loadgen.Merge(rs)
	if err == nil {
		err = results.Write(c.String("output"), out)
	}
	if err != nil {
		return cli.Exit(err, 1)
	}
	fmt.Fprintf(c.App.Writer, "merged %d results: %d requests, %.2f requests/s, p99 %d us\n",
		len(rs), out.RequestsTotal, out.ThroughputRPS, out.LatencyUS.P99)
	return nil
}

func runLength(cfg *loadgen.Config) string {
	if cfg.Duration > 0 {
		return cfg.Duration.String()
	}
	return fmt.Sprintf("%d-request", cfg.Requests)
}

func progress(w io.Writer, p loadgen.Progress) {
	phase := ""
	if p.Warmup {
		phase = " (warm-up)"
	}
	fmt.Fprintf(w, "\r\033[K%6.0fs%s  %d requests  %.0f req/s  %d errors",
		p.Elapsed.Seconds(), phase, p.Requests, p.Rate, p.Errors)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
