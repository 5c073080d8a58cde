// Command webserver runs one flashbench server architecture on a document
// root: `webserver --arch NAME --root DIR --listen ADDR`. Every
// architecture shares the HTTP core (parser, translation, caches,
// response bytes); only the concurrency model differs. It prints one line
// when it is ready, shuts down gracefully on SIGTERM or SIGINT, and
// writes its counters to --stats-file at exit and on SIGUSR1.
package main

import (
	"fmt"
	"io"

	"flashbench/internal/cliutil"
)

func main() {
	cliutil.Main(run)
}

// run is the whole command, testable in-process. Its error is the one
// line the user sees, so it names the command.
func run(args []string, stdout, stderr io.Writer) error {
	// A re-executed child, worker or helper goes straight to its hidden
	// subcommand: building the command line (every architecture's flags,
	// the help texts) took a seventh of a forking child's CPU, paid per
	// connection.
	if len(args) > 1 {
		if fn, ok := hidden[args[1]]; ok {
			if err := fn(args[2:]); err != nil {
				return fmt.Errorf("webserver: %w", err)
			}
			return nil
		}
	}
	if err := newApp(stdout, stderr).Run(args); err != nil {
		return fmt.Errorf("webserver: %w", err)
	}
	return nil
}
