package main

import (
	"github.com/urfave/cli/v2"

	"flashbench/servers/internal/connloop"
	"flashbench/servers/threaded"
)

var threads int

func init() {
	registerArch(Arch{
		Name:    "threaded",
		Summary: "a kernel thread per connection (MT): a pool of OS threads in blocking accept, read and write",
		Flags: []cli.Flag{&cli.IntFlag{Name: "threads", Value: threaded.DefaultThreads,
			Usage: "threaded: serving OS threads", Destination: &threads}},
		Wait: WaitBlocking,
		Run: func(ctx *RunContext) error {
			conn := connloop.Options{ServeOptions: ctx.Options, Conns: connloop.Track(ctx.Core)}
			defer conn.Conns.Close()
			s, err := threaded.New(ctx.Listener, ctx.Core, threaded.Options{Threads: threads, Conn: conn, Stats: ctx.Stats})
			if err != nil {
				return err
			}
			return ctx.Serve(s)
		},
	})
}
