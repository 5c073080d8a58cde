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
	"os"
)

func main() {
	if err := run(os.Args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "webserver: %v\n", err)
		os.Exit(1)
	}
}

// run is the whole command, testable in-process.
func run(args []string, stdout, stderr io.Writer) error {
	return newApp(stdout, stderr).Run(args)
}
