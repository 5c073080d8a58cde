// Command loadgen drives an HTTP server with flashbench's load generator
// and reports what it measured: a wrk-style summary on stdout, optionally a
// result document (--output) and an HdrHistogram interval log (--hdr-log).
//
//	loadgen -c 64 -d 30s -t 1 http://127.0.0.1:8080/index.html
//	loadgen merge a.json b.json -o all.json
//
// Like wrk, it sends its load to whatever address the URL names; the
// harness is what keeps flashbench's experiments to loopback, its own
// namespaces and the hosts it is given. Failed requests are counted by
// class; when there are any, one line on stderr (and the result's note
// and dominant_error) says what they suggest. A server unreachable from
// the start is an error (exit status 1), and the outputs asked for are
// written all the same, counting the failed connection attempt; so is a
// run that measured no request (no response completed), its note the
// error line.
package main

import "flashbench/internal/cliutil"

func main() { cliutil.Main(run) }
