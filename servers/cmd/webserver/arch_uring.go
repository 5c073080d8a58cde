package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"flashbench/servers/uring"
)

// sendZCMin is uring's --send-zc-min.
var sendZCMin int

var sendZCMinFlag = &cli.IntFlag{Name: "send-zc-min", Destination: &sendZCMin,
	Usage: "uring: smallest response (header and body) sent by zero-copy sendmsg (IORING_OP_SENDMSG_ZC), the socket referencing the mapped pages until the kernel's notification; 0: every response copied by sendmsg",
	Action: func(_ *cli.Context, n int) error {
		if n < 0 {
			return fmt.Errorf("--send-zc-min %d: must not be negative", n)
		}
		return nil
	}}

func init() {
	registerArch(Arch{
		Name:     "uring",
		Summary:  "AMPED on io_uring, no helpers: one thread, accept, recv, send and close through one ring (multishot accept and recv, provided buffers), translation misses and non-resident data as statx and reads on the same ring",
		MaxProcs: 1,
		Wait:     WaitRing,
		Probe:    uring.Probe,
		Flags:    []cli.Flag{sendZCMinFlag},
		Run: func(ctx *RunContext) error {
			s, err := uring.New(ctx.Listener, ctx.Core, ctx.Options)
			if err != nil {
				return err
			}
			if err := s.SetSendZCMin(sendZCMin); err != nil {
				return err
			}
			ctx.Stats.AddSource(ctx.Arch.Name, func() any { return s.Stats() })
			return ctx.Serve(s)
		},
	})
}
