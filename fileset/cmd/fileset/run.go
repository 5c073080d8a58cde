package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"flashbench/fileset"
	"flashbench/internal/atomicfile"
	"flashbench/internal/cliutil"

	"github.com/urfave/cli/v2"
)

// run is the whole command line: it parses args (args[0] is the program name)
// and returns an error whose message is the single line a user sees.
func run(args []string, stdout, stderr io.Writer) error {
	app := &cli.App{
		Name:            "fileset",
		HelpName:        "fileset",
		Usage:           "generate flashbench file sets and access traces",
		Description:     "fileset builds the SPECweb96/99, fixed-size and single-file sets the\nservers are measured on, each described by DIR/manifest.json, writes access\ntraces over them, and evicts them from or inspects them in the page cache.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Commands:        []*cli.Command{generateCommand(), traceCommand(), evictCommand(), residentCommand()},
		ExitErrHandler:  func(*cli.Context, error) {}, // run returns errors; main exits
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return failf("fileset: unknown command %q (see fileset --help)", c.Args().First())
			}
			return failf("fileset: no command given (see fileset --help)")
		},
	}
	for _, cmd := range app.Commands {
		cmd.HideHelpCommand = true
	}
	cliutil.OneLineUsage(app) // a bad flag is one line and exit status 2
	err := app.Run(args)
	if cliutil.IsUsage(err) {
		return fmt.Errorf("fileset: %w", err)
	}
	return err
}

// fail and failf make the error a user sees: one line, exit status 1.
func fail(err error) error { return cli.Exit(err, 1) }

func failf(format string, a ...any) error { return fail(fmt.Errorf(format, a...)) }

// noArgs rejects positional arguments, which no command takes.
func noArgs(c *cli.Context) error {
	if c.NArg() > 0 {
		return failf("fileset %s: unexpected argument %q", c.Command.Name, c.Args().First())
	}
	return nil
}

func generateCommand() *cli.Command {
	return &cli.Command{
		Name:      "generate",
		Usage:     "build a file set and its manifest in a directory",
		UsageText: "fileset generate --kind KIND --dir DIR [--connections N | --size BYTES [--count N]] [--seed S]",
		Description: "Kinds:\n" +
			"  specweb99  dirNNNNN/classC_F, 36 files a directory of base[C]*(F+1)/10 bytes,\n" +
			"             base {1024, 10240, 102400, 1024000}; int(25 + (400000/122000*N)/5)\n" +
			"             directories for N connections\n" +
			"  specweb96  the same layout with SPECweb96 sizes (102..922 B, 1..9 KB, 10..90 KB,\n" +
			"             100..900 KB) and the SPECweb99 directory count\n" +
			"  fixed      --count files of --size bytes: fixed/f000000, fixed/f000001, ...\n" +
			"  single     one file of --size bytes: single/file\n" +
			"Content is deterministic from --seed and each path. Running the same command\n" +
			"again when DIR already holds the set writes nothing.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "kind", Aliases: []string{"k"}, Usage: "set `KIND`: specweb99, specweb96, fixed or single (required)"},
			&cli.StringFlag{Name: "dir", Usage: "`DIR` to build the set in, created if missing (required)"},
			&cli.IntFlag{Name: "connections", Aliases: []string{"c"}, Usage: "`N` simultaneous connections the SPECweb set is sized for (required for specweb99/96)"},
			&cli.Int64Flag{Name: "size", Usage: "file size in `BYTES` (required for fixed and single)"},
			&cli.IntFlag{Name: "count", Usage: "`N` files (required for fixed)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "content seed `S`"},
		},
		Action: generate,
	}
}

func generate(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if !c.IsSet("kind") || !c.IsSet("dir") {
		return failf("fileset generate: --kind and --dir are required")
	}
	m, err := fileset.Generate(fileset.Options{
		Kind: fileset.Kind(c.String("kind")), Dir: c.String("dir"), Seed: c.Uint64("seed"),
		Connections: c.Int("connections"), SizeBytes: c.Int64("size"), Count: c.Int("count"),
	})
	if err != nil {
		return fail(err)
	}
	verb := "generated"
	if m.Reused {
		verb = "up to date:"
	}
	fmt.Fprintf(c.App.Writer, "%s %s set in %s: %d files, %d bytes\n",
		verb, m.Kind, c.String("dir"), len(m.Files), m.TotalBytes)
	return nil
}

func traceCommand() *cli.Command {
	return &cli.Command{
		Name:      "trace",
		Usage:     "write an access trace: generated from a manifest, or taken from an access log",
		UsageText: "fileset trace (--manifest FILE --requests N [--seed S] | --from-log FILE) [--output FILE]",
		Description: "A trace is plain text: a '#' header comment line, then one URL path per\n" +
			"line (/dir00003/class1_4). With --manifest, requests follow SPECweb99: the\n" +
			"class by the mix {0.35, 0.50, 0.14, 0.01}, the file within its class by\n" +
			"Zipf(1.0) over the ranks {4,3,5,2,6,1,7,8,0}, the directory by Zipf(1.0);\n" +
			"fixed and single sets are drawn uniformly. With --from-log, the trace is\n" +
			"the paths of the GET lines of a Common (or Combined) Log Format file.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "manifest `FILE` of the set to draw requests from"},
			&cli.IntFlag{Name: "requests", Aliases: []string{"n"}, Usage: "`N` requests to generate (with --manifest)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "sampling seed `S`"},
			&cli.StringFlag{Name: "from-log", Usage: "access log `FILE` to take the requests from instead"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the trace to `FILE` instead of standard output"},
		},
		Action: trace,
	}
}

func trace(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	var write func(io.Writer) error
	switch {
	case c.IsSet("manifest") == c.IsSet("from-log"):
		return failf("fileset trace: give exactly one of --manifest and --from-log")
	case c.IsSet("from-log"):
		paths, err := readLog(c.String("from-log"))
		if err != nil {
			return fail(err)
		}
		header := fmt.Sprintf("fileset trace from=%s requests=%d", filepath.Base(c.String("from-log")), len(paths))
		write = func(w io.Writer) error { return fileset.WritePaths(w, header, paths) }
	default:
		n := c.Int("requests")
		if n <= 0 {
			return failf("fileset trace: --requests must be positive, got %d", n)
		}
		m, err := fileset.ReadManifest(c.String("manifest"))
		if err != nil {
			return fail(err)
		}
		s := fileset.NewSampler(m, c.Uint64("seed"))
		header := fmt.Sprintf("fileset trace kind=%s set_seed=%d seed=%d requests=%d", m.Kind, m.Seed, c.Uint64("seed"), n)
		write = func(w io.Writer) error { return fileset.WriteTrace(w, header, s, n) }
	}
	if !c.IsSet("output") {
		return failIf(write(c.App.Writer))
	}
	return failIf(writeAtomic(c.String("output"), write))
}

func failIf(err error) error {
	if err != nil {
		return fail(err)
	}
	return nil
}

func readLog(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("fileset: open access log: %w", err)
	}
	defer f.Close()
	return fileset.ReadCLF(f)
}

// writeAtomic writes a file through a temporary name, so a failed run never
// leaves half a trace behind.
func writeAtomic(name string, write func(io.Writer) error) error {
	var werr error
	err := atomicfile.Write(name, func(w io.Writer) error {
		werr = write(w)
		return werr
	})
	switch {
	case err == nil:
		return nil
	case werr != nil:
		return werr
	}
	return fmt.Errorf("fileset: write output: %w", err)
}

func evictCommand() *cli.Command {
	return &cli.Command{
		Name:      "evict",
		Usage:     "drop every file of a set from the page cache",
		UsageText: "fileset evict --manifest FILE",
		Description: "Each file is flushed (fdatasync) and advised away (posix_fadvise\n" +
			"POSIX_FADV_DONTNEED), so the next run reads from disk. Files are looked up\n" +
			"next to the manifest. Sets on tmpfs stay in memory whatever the advice.",
		Flags:  []cli.Flag{&cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "manifest `FILE` of the set (required)"}},
		Action: evict,
	}
}

func evict(c *cli.Context) error {
	m, dir, err := manifestArg(c)
	if err != nil {
		return err
	}
	if err := fileset.Evict(m, dir); err != nil {
		return fail(err)
	}
	fmt.Fprintf(c.App.Writer, "evicted %d files, %d bytes\n", len(m.Files), m.TotalBytes)
	return nil
}

func residentCommand() *cli.Command {
	return &cli.Command{
		Name:      "resident",
		Usage:     "report how much of a set is in the page cache",
		UsageText: "fileset resident --manifest FILE [--json]",
		Description: "Maps each file and asks mincore which pages are resident; nothing is read.\n" +
			"Prints \"resident R of T bytes (P%)\", or with --json an object with\n" +
			"schema_version, resident_bytes, total_bytes and resident_pct.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "manifest `FILE` of the set (required)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"},
		},
		Action: resident,
	}
}

// residentReport is the --json output of the resident command.
type residentReport struct {
	SchemaVersion int     `json:"schema_version"`
	ResidentBytes int64   `json:"resident_bytes"`
	TotalBytes    int64   `json:"total_bytes"`
	ResidentPct   float64 `json:"resident_pct"`
}

func resident(c *cli.Context) error {
	m, dir, err := manifestArg(c)
	if err != nil {
		return err
	}
	res, total, err := fileset.Resident(m, dir)
	if err != nil {
		return fail(err)
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(res) / float64(total)
	}
	if c.Bool("json") {
		data, _ := json.Marshal(residentReport{1, res, total, pct})
		fmt.Fprintf(c.App.Writer, "%s\n", data)
		return nil
	}
	fmt.Fprintf(c.App.Writer, "resident %d of %d bytes (%.1f%%)\n", res, total, pct)
	return nil
}

// manifestArg reads the --manifest flag's manifest and returns it with the
// directory that holds the set.
func manifestArg(c *cli.Context) (*fileset.Manifest, string, error) {
	if err := noArgs(c); err != nil {
		return nil, "", err
	}
	name := c.String("manifest")
	if strings.TrimSpace(name) == "" {
		return nil, "", failf("fileset %s: --manifest is required", c.Command.Name)
	}
	m, err := fileset.ReadManifest(name)
	if err != nil {
		return nil, "", fail(err)
	}
	return m, filepath.Dir(name), nil
}
