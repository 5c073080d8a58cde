// Command harness runs flashbench's experiments end to end: it builds the
// servers and the load generator, generates the file sets, starts each
// architecture pinned to its own core, verifies, warms up and measures it,
// and archives one result document per point with the run's index.
//
//	harness list
//	harness run hotos97
//	harness run connections --archs amped,prefork --trials 5
package main

import "flashbench/internal/cliutil"

func main() { cliutil.Main(run) }
