// Package cliutil holds what every flashbench command shares around its
// run function: a user sees one error line on stderr and a non-zero exit
// status, never a stack trace or an exit status of 0 after a failure.
package cliutil

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

// Run is the whole of a command: args[0] is the program name; the error it
// returns is the one line the user sees.
type Run func(args []string, stdout, stderr io.Writer) error

// Main runs run with the process's arguments and streams and exits with the
// status ExitCode gives its error.
func Main(run Run) {
	err := run(os.Args, os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(ExitCode(err))
}

// ExitCode is the exit status for err: 0 for nil, the code of a
// cli.ExitCoder when it is not 0, else 1.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) && ec.ExitCode() != 0 {
		return ec.ExitCode()
	}
	return 1
}

// UsageError is an OnUsageError for a command's cli.App: a bad flag or
// argument is one line that points at --help.
func UsageError(_ *cli.Context, err error, _ bool) error {
	return fmt.Errorf("bad usage: %w (see --help)", err)
}
