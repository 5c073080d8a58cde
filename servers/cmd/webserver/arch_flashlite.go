package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"flashbench/servers/httpcore"
)

// DefaultSendFileMin is flashlite's default --sendfile-min: the body size
// from which sendfile is at least as fast as a copy over persistent
// connections, measured in results/iolite-crossover/20261207T151838Z
// (sendfile/copy 0.92 [0.84, 0.98] at 8 KB, 0.98 at 12 KB, 1.02 at 16 KB,
// 1.11 at 20 KB; docs/iolite.md).
const DefaultSendFileMin = 16 << 10

// sendFileMin is flashlite's --sendfile-min.
var sendFileMin int64 = DefaultSendFileMin

var sendFileMinFlag = &cli.Int64Flag{Name: "sendfile-min", Value: DefaultSendFileMin, Destination: &sendFileMin,
	Usage: "flashlite: smallest file body sent with sendfile from the page cache; shorter bodies are copied with their header in one writev, as IO-Lite chose per size (0: every body with sendfile)",
	Action: func(_ *cli.Context, n int64) error {
		if n < 0 {
			return fmt.Errorf("--sendfile-min %d: must not be negative", n)
		}
		return nil
	}}

func init() {
	registerArch(Arch{
		Name:     "flashlite",
		Summary:  "Flash-Lite: amped with IO-Lite's copy-free data path (bodies from --sendfile-min by sendfile from the page cache, no user-level copy; smaller ones copied)",
		MaxProcs: 1,
		// IO-Lite's static path: file bodies leave as page-cache references
		// (sendfile), never through a user-level mapping or buffer. The
		// pages stay immutable while a socket may reference them, as
		// IO-Lite's buffers did: each file is opened under a read lease
		// (as every architecture's core does), so a truncation or write
		// waits until the loop has drained them.
		Configure: func(c *httpcore.Config) { c.SendFile, c.SendFileMin = true, sendFileMin },
		// IO-Lite's CGI path: programs write bodies once, into a pool
		// shared with the server, which sends them without reading them.
		CGISharedMemory: true,
		Flags:           append([]cli.Flag{sendFileMinFlag}, helperFlags...),
		Run:             runAmped,
	})
}
