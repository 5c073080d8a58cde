package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Args answers a command line, which the server never gives a CGI
// program: -h or --help prints usage on standard output and exits 0, and
// any other argument is one line on standard error and exit status 2, as
// with every flashbench command. A program calls it first in main, so that
// someone trying it by hand learns what it is instead of watching it wait
// for request frames.
func Args(usage string) {
	if code, done := checkArgs(os.Args, usage, os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
}

// checkArgs is Args on args (args[0] is the program), writing to stdout
// and stderr: done reports whether the program is to exit now, with code.
func checkArgs(args []string, usage string, stdout, stderr io.Writer) (code int, done bool) {
	if len(args) < 2 {
		return 0, false
	}
	name := filepath.Base(args[0])
	if a := args[1]; a == "-h" || a == "--help" || a == "-help" {
		fmt.Fprint(stdout, usage)
		return 0, true
	}
	fmt.Fprintf(stderr, "%s: bad usage: unexpected argument %q: a CGI program takes none (see %s --help)\n", name, args[1], name)
	return 2, true
}
