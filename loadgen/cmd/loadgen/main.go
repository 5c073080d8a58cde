// Command loadgen drives an HTTP server with flashbench's load generator
// and reports what it measured: a wrk-style summary on stdout, optionally a
// result document (--output) and an HdrHistogram interval log (--hdr-log).
//
//	loadgen -c 64 -d 30s -t 1 http://127.0.0.1:8080/index.html
//	loadgen merge a.json b.json -o all.json
package main

import "flashbench/internal/cliutil"

func main() { cliutil.Main(run) }
