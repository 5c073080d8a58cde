// Command fileset generates the SPECweb96/99 and fixed-size file sets of the
// flashbench experiments, writes access traces over them, and evicts them from
// or inspects them in the page cache. Run `fileset --help` for the commands.
package main

import "flashbench/internal/cliutil"

func main() { cliutil.Main(run) }
