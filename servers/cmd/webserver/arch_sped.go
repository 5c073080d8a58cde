package main

import "flashbench/servers/sped"

func init() {
	registerArch(Arch{
		Name:     "sped",
		Summary:  "single-process event-driven (Zeus/thttpd): one thread, epoll, file I/O inline (blocks on disk)",
		MaxProcs: 1,
		Run: func(ctx *RunContext) error {
			s, err := sped.New(ctx.Listener, ctx.Core, ctx.Options)
			if err != nil {
				return err
			}
			return ctx.Serve(s)
		},
	})
}
