package main

import "flashbench/servers/baseline"

func init() {
	registerArch(Arch{
		Name:    "nethttp",
		Summary: "baseline: the standard library's net/http.Server with http.FileServer",
		Run: func(ctx *RunContext) error {
			s, err := baseline.NewNetHTTP(ctx.Listener, ctx.Core.Config().Root, baselineOptions(ctx))
			if err != nil {
				return err
			}
			return ctx.Serve(s)
		},
	})
	registerArch(Arch{
		Name:    "fasthttp",
		Summary: "baseline: fasthttp.Server with fasthttp.FS (no compression, no index pages, no ranges)",
		Run: func(ctx *RunContext) error {
			s, err := baseline.NewFastHTTP(ctx.Listener, ctx.Core.Config().Root, baselineOptions(ctx))
			if err != nil {
				return err
			}
			return ctx.Serve(s)
		},
	})
}

// baselineOptions gives the baselines the flashbench servers' timeouts.
func baselineOptions(ctx *RunContext) baseline.Options {
	return baseline.Options{
		HeaderTimeout: ctx.Options.HeaderTimeout,
		IdleTimeout:   ctx.Options.IdleTimeout,
		WriteTimeout:  ctx.Options.WriteTimeout,
		Stats:         ctx.Stats,
		CGI:           ctx.CGIManager(),
	}
}
