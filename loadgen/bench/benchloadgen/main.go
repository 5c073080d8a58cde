// Command benchloadgen compares flashbench's load generator with wrk, head
// to head, on this machine, and archives what it measured
// (`make bench-loadgen`).
//
// nginx (one worker, pinned to --server-core, no CPU quota) serves a 500 B
// and a 50 KB file; wrk and loadgen in turn (pinned to --client-core, one
// thread each) drive it with the same connections and duration, over
// keep-alive and one request per connection. The question is the
// client's, so the server is not budgeted: each run's bound verdict is
// the harness's (harness.BoundOf) from the client's CPU share, and
// `client` (the client at 90% of its core or more) is what this
// comparison wants: then each tool's requests/s is its own speed.
// Last, loadgen holds --idle-connections keep-alive connections open;
// its peak RSS over that of 10 connections gives its memory per
// connection.
//
// Everything goes to OUT/bench-loadgen/<UTC timestamp>/: each loadgen
// run's result document (loadgen -o), each wrk run's output as text, and
// summary.json (written atomically) with the per-case figures, ratios and
// verdicts, and the provenance of a loadgen result.
//
//	benchloadgen --bin bin --connections 64 --duration 5s
package main

import "flashbench/internal/cliutil"

func main() { cliutil.Main(run) }
