package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"flashbench/servers/null"
)

// nullBodySize is null's --body-size.
var nullBodySize int

var nullBodySizeFlag = &cli.IntFlag{Name: "body-size", Destination: &nullBodySize,
	Usage: fmt.Sprintf("null: bytes in the canned body, so that the reference sends as much as the file it stands beside (0: %q)", null.Body),
	Action: func(_ *cli.Context, n int) error {
		if n < 0 || n > null.MaxBodySize {
			return fmt.Errorf("--body-size %d: want 0 to %d", n, null.MaxBodySize)
		}
		return nil
	}}

func init() {
	registerArch(Arch{
		Name:     "null",
		Summary:  "physical-limit reference, a measuring stick and not a server to use: a canned 200 from memory (--body-size bytes), no files",
		MaxProcs: 1,
		NoCore:   true,
		Flags:    []cli.Flag{nullBodySizeFlag},
		Run: func(ctx *RunContext) error {
			s, err := null.New(ctx.Listener, ctx.Options, nullBodySize)
			if err != nil {
				return err
			}
			return ctx.Serve(s)
		},
	})
}
