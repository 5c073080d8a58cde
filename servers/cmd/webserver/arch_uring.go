package main

import "flashbench/servers/uring"

func init() {
	registerArch(Arch{
		Name:     "uring",
		Summary:  "AMPED on io_uring, no helpers: one thread, accept, recv, send and close through one ring (multishot accept and recv, provided buffers), translation misses and non-resident data as statx and reads on the same ring",
		MaxProcs: 1,
		Wait:     WaitRing,
		Probe:    uring.Probe,
		Run: func(ctx *RunContext) error {
			s, err := uring.New(ctx.Listener, ctx.Core, ctx.Options)
			if err != nil {
				return err
			}
			ctx.Stats.AddSource(ctx.Arch.Name, func() any { return s.Stats() })
			return ctx.Serve(s)
		},
	})
}
