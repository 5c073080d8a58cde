package main

import "flashbench/servers/baseline"

func init() {
	registerArch(Arch{
		Name:     "nethttp",
		Summary:  "baseline: the standard library's net/http.Server with http.FileServer",
		Baseline: true,
		Wait:     WaitBlocking,
		Run: func(ctx *RunContext) error {
			s, err := baseline.NewNetHTTP(ctx.Listener, ctx.Core.Config().Root, ctx.Options)
			if err != nil {
				return err
			}
			return ctx.Serve(s)
		},
	})
	registerArch(Arch{
		Name:     "fasthttp",
		Summary:  "baseline: fasthttp.Server with fasthttp.FS (no compression, no index pages, no ranges)",
		Baseline: true,
		Wait:     WaitBlocking,
		Run: func(ctx *RunContext) error {
			s, err := baseline.NewFastHTTP(ctx.Listener, ctx.Core.Config().Root, ctx.Options)
			if err != nil {
				return err
			}
			return ctx.Serve(s)
		},
	})
}
