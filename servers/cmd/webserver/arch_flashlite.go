package main

import "flashbench/servers/httpcore"

func init() {
	registerArch(Arch{
		Name:     "flashlite",
		Summary:  "Flash-Lite: amped with IO-Lite's copy-free data path (sendfile from the page cache, no user-level copy)",
		MaxProcs: 1,
		// IO-Lite's static path: file bodies leave as page-cache references
		// (sendfile), never through a user-level mapping or buffer. The
		// pages stay immutable while a socket may reference them, as
		// IO-Lite's buffers did: each file is opened under a read lease
		// (as every architecture's core does), so a truncation or write
		// waits until the loop has drained them.
		Configure: func(c *httpcore.Config) { c.SendFile = true },
		// IO-Lite's CGI path: programs write bodies once, into a pool
		// shared with the server, which sends them without reading them.
		CGISharedMemory: true,
		Flags:           helperFlags,
		Run:             runAmped,
	})
}
