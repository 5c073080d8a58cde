// Package soak is flashbench's soak run: every server architecture at
// once, each a real bin/webserver process on its own loopback port with
// the same SPECweb99 file set and CGI programs, under a long mixed load
// (keep-alive and connection-per-request clients, static files and CGI,
// every body verified) while faults are injected on a schedule: slow and
// hostile clients, descriptor pressure, files changed while served,
// killed workers, helpers and CGI processes, and a graceful shutdown with
// requests in flight at the end.
//
// A run samples each server's process tree (descriptors, resident memory,
// processes by kind, zombies) after its warm-up and again once the load
// has stopped, writes every load interval as a result document, reads all
// of them back at the end, and fails an architecture that crashed, leaked,
// left zombies or orphans, grew its memory past the bound, answered with
// an error no injected fault explains, or lost a measured result.
//
// Run does the work; `harness soak` only parses flags into Options.
package soak
