package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"flashbench/internal/cliutil"
	"flashbench/servers/internal/httpconn"
)

// options are the parsed flags.
type options struct {
	arch, root, listen, statsFile, cpuProfile string
	noPathCache, noHeaderCache, noMmapCache   bool
	headerTimeout, idleTimeout                time.Duration
	writeTimeout, shutdownTimeout             time.Duration
	maxConns                                  int
	deferAccept                               bool
	cgi                                       cgiFlags
	set                                       []string // the flags given on the command line
}

// newApp builds the command line: flags and the serving action (run
// dispatches the hidden subcommands before it).
func newApp(stdout, stderr io.Writer) *cli.App {
	var o options
	app := &cli.App{
		Name:            "webserver",
		Usage:           "serve a document root with one of the Flash paper's server architectures",
		UsageText:       "webserver --arch NAME --root DIR [--listen ADDR] [options]",
		Description:     describeArchs(),
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           flags(&o),
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError:    cliutil.UsageError, // a bad flag is one line, as in every flashbench command
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("unexpected argument %q (see --help)", c.Args().First())
			}
			o.set = c.LocalFlagNames()
			stop, err := cliutil.StartCPUProfile(o.cpuProfile)
			if err != nil {
				return err
			}
			err = serve(&o, stdout, stderr)
			if perr := stop(); err == nil {
				err = perr
			}
			return err
		},
	}
	return app
}

// flags declares every flag of the serving command: the common ones, then
// each architecture's own, once each.
func flags(o *options) []cli.Flag {
	fl := commonFlags(o)
	return append(fl, archFlags()...)
}

// archFlags returns the architectures' own flags, in the order of the
// architectures, a flag shared by several once.
func archFlags() []cli.Flag {
	var fl []cli.Flag
	seen := map[cli.Flag]bool{}
	for _, n := range archNames() {
		for _, f := range archs[n].Flags {
			if !seen[f] {
				seen[f] = true
				fl = append(fl, f)
			}
		}
	}
	return fl
}

// commonFlags declares the flags every architecture shares.
func commonFlags(o *options) []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "arch", Aliases: []string{"a"}, Usage: "server architecture: " + strings.Join(archNames(), ", "), Destination: &o.arch},
		&cli.StringFlag{Name: "root", Aliases: []string{"r"}, Usage: "document root to serve (not needed by null)", Destination: &o.root},
		&cli.StringFlag{Name: "listen", Aliases: []string{"l"}, Value: "127.0.0.1:8080", Usage: "address to listen on, IP:PORT (port 0 picks a free one)", Destination: &o.listen},
		&cli.StringFlag{Name: "stats-file", Usage: "write the server's counters as JSON to `FILE` at exit and on SIGUSR1", Destination: &o.statsFile},
		&cli.StringFlag{Name: "cpu-profile", Usage: "write a CPU profile of the server process (not of its children or helpers) to `FILE` for go tool pprof, from start to exit", Destination: &o.cpuProfile},
		&cli.BoolFlag{Name: "no-pathname-cache", Usage: "turn the pathname translation cache off", Destination: &o.noPathCache},
		&cli.BoolFlag{Name: "no-header-cache", Usage: "turn the response header cache off", Destination: &o.noHeaderCache},
		&cli.BoolFlag{Name: "no-mmap-cache", Usage: "turn the mapped-file cache off", Destination: &o.noMmapCache},
		&cli.DurationFlag{Name: "header-timeout", Value: httpconn.DefaultHeaderTimeout, Usage: "longest wait for a request header (408 once part of it arrived)", Destination: &o.headerTimeout},
		&cli.DurationFlag{Name: "idle-timeout", Value: httpconn.DefaultIdleTimeout, Usage: "longest wait for the next request on a persistent connection", Destination: &o.idleTimeout},
		&cli.DurationFlag{Name: "write-timeout", Value: httpconn.DefaultWriteTimeout, Usage: "longest time a response may make no progress", Destination: &o.writeTimeout},
		&cli.IntFlag{Name: "max-conns", Usage: "most connections open at once, in every architecture; more wait in the listen backlog until one closes (forking: most children; prefork: most workers, as Apache's MaxRequestWorkers); 0 means no bound beyond the descriptor limit", Destination: &o.maxConns},
		&cli.BoolFlag{Name: "defer-accept", Value: true, Usage: "accept a connection once its first request bytes have arrived (TCP_DEFER_ACCEPT, Apache's default on Linux, nginx's listen ... deferred), so that the first read finds them; a client that connects and sends nothing is accepted about a second later (--defer-accept=false: at once)", Destination: &o.deferAccept},
		&cli.DurationFlag{Name: "shutdown-timeout", Value: 5 * time.Second, Usage: "on SIGTERM or SIGINT, longest wait for requests in flight before exiting", Destination: &o.shutdownTimeout},
	}, o.cgi.flags()...)
}

// describeArchs lists the architectures, one line each.
func describeArchs() string {
	var b strings.Builder
	b.WriteString("Architectures (--arch):\n")
	for _, n := range archNames() {
		fmt.Fprintf(&b, "  %-10s %s\n", n, archs[n].Summary)
	}
	b.WriteString("\nThe server prints \"webserver: ARCH listening on ADDR\" when it is ready.")
	return b.String()
}
