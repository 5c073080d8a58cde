package main

import "flashbench/servers/uring"

func init() {
	registerArch(Arch{
		Name:     "uring",
		Summary:  "SPED on io_uring: one thread, accept, recv, send and close through one ring (multishot accept and recv, provided buffers), file I/O inline",
		MaxProcs: 1,
		NoCGI:    true,
		Probe:    uring.Probe,
		Run: func(ctx *RunContext) error {
			s, err := uring.New(ctx.Listener, ctx.Core, ctx.Options)
			if err != nil {
				return err
			}
			return ctx.Serve(s)
		},
	})
}
