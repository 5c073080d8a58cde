// Command fileset generates the SPECweb96/99 and fixed-size file sets of the
// flashbench experiments, writes access traces over them, and evicts them from
// or inspects them in the page cache. Run `fileset --help` for the commands.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

func main() {
	if err := run(os.Args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code := 1
		var ec cli.ExitCoder
		if errors.As(err, &ec) && ec.ExitCode() != 0 {
			code = ec.ExitCode()
		}
		os.Exit(code)
	}
}
