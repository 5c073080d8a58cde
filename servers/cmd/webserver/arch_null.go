package main

import "flashbench/servers/null"

func init() {
	registerArch(Arch{
		Name:     "null",
		Summary:  "physical-limit reference, a measuring stick and not a server to use: a canned 200 from memory, no files",
		MaxProcs: 1,
		NoCore:   true,
		Run: func(ctx *RunContext) error {
			s, err := null.New(ctx.Listener, ctx.Options)
			if err != nil {
				return err
			}
			return ctx.Serve(s)
		},
	})
}
