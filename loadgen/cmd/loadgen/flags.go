package main

import (
	"flashbench/internal/cliargs"
	"time"

	"github.com/urfave/cli/v2"
)

func flags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "connections", Aliases: []string{"c"}, Value: 10, Usage: "concurrent connections (clients)"},
		&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Value: 10 * time.Second, Usage: "measurement length, after the warm-up"},
		&cli.IntFlag{Name: "threads", Aliases: []string{"t"}, Value: 1, Usage: "worker OS threads, each with its own epoll loop"},
		&cli.DurationFlag{Name: "warmup", Value: time.Second, Usage: "unmeasured load before the measurement (0s for none)"},
		&cli.Int64Flag{Name: "requests", Aliases: []string{"n"}, Usage: "stop after `N` measured requests (with no --duration)"},
		&cli.IntFlag{Name: "requests-per-conn", Value: 1, Usage: "requests per connection: 1 is one per connection as in the papers, 0 unlimited keep-alive"},
		&cli.IntFlag{Name: "pipeline", Value: 1, Usage: "requests outstanding per connection (HTTP pipelining depth `P`)"},
		&cli.DurationFlag{Name: "think-time", Usage: "closed-loop pause between a response and the next request"},
		&cli.Float64Flag{Name: "rate", Usage: "open loop: `R` requests/s in total (latency from the intended send time)"},
		&cli.StringFlag{Name: "arrival", Value: "constant", Usage: "open-loop arrivals: constant or poisson"},
		&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "request timeout, counted as an error"},
		&cli.DurationFlag{Name: "connect-timeout", Usage: "connection attempt timeout; 0s means --timeout"},
		&cli.BoolFlag{Name: "sclient", Usage: "S-Client mode: abort and re-issue connection attempts not established within --connect-timeout"},
		&cli.StringFlag{Name: "manifest", Usage: "request a file set's files (`FILE` manifest.json) in SPECweb99 proportions"},
		&cli.StringFlag{Name: "urls", Usage: "request the paths of `FILE`, one per line, optional weight after each"},
		&cli.StringFlag{Name: "trace", Usage: "replay the paths of trace `FILE` in order, once; the warm-up makes a pass of its own over its start"},
		&cli.BoolFlag{Name: "verify", Usage: "check bodies against the manifest checksums"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the result document to `FILE`.json (atomically)"},
		&cli.StringFlag{Name: "hdr-log", Usage: "write an HdrHistogram interval log to `FILE`"},
		&cli.StringSliceFlag{Name: "source", Usage: "local `ADDR`esses to bind, cycled (default on loopback: 127.0.0.1-254 once ports run out)"},
		&cli.BoolFlag{Name: "close-with-reset", Usage: "close connections with a reset (SO_LINGER 0), as httperf does"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed for workload sampling and Poisson arrivals"},
		// For profiling loadgen itself (go tool pprof); not part of the interface.
		&cli.StringFlag{Name: "cpu-profile", Hidden: true, Usage: "write a CPU profile of the run to `FILE`"},
	}
}

// reorder moves flags that follow positional arguments in front of them, so
// `loadgen URL -c 8` and `loadgen merge a.json -o b.json` work as users
// expect (the flag package stops at the first positional argument).
func reorder(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	flagSet := app.Flags
	head := []string{args[0]}
	rest := args[1:]
	if rest[0] == "merge" {
		head = append(head, "merge")
		rest = rest[1:]
		flagSet = app.Commands[0].Flags
	}
	return append(head, cliargs.Reorder(flagSet, rest)...)
}
