// Package cliutil holds what every flashbench command shares around its
// run function: a user sees one error line on stderr and a non-zero exit
// status, never a stack trace or an exit status of 0 after a failure, and
// a bad flag or argument is that one line with exit status 2, never the
// whole help.
package cliutil

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

// UsageExit is the exit status of a bad flag or argument, as with the
// standard flag package and most Unix tools.
const UsageExit = 2

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

// usageError is a bad flag or argument of the command named help.
type usageError struct {
	err  error
	help string // the command's help name, e.g. "harness run"
}

func (e *usageError) Error() string {
	if e.help == "" {
		return fmt.Sprintf("bad usage: %v (see --help)", e.err)
	}
	return fmt.Sprintf("bad usage: %v (see %s --help)", e.err, e.help)
}

func (e *usageError) Unwrap() error { return e.err }

// ExitCode makes a usage error a cli.ExitCoder: status UsageExit.
func (e *usageError) ExitCode() int { return UsageExit }

// UsageError is an OnUsageError for a cli.App or cli.Command: a flag that
// is not defined or whose value does not parse is one line that points at
// the command's --help, and exit status UsageExit. The line does not name
// the program: the caller's run prefixes it, as it does its other errors
// (IsUsage tells a usage error apart when it prefixes only some).
func UsageError(c *cli.Context, err error, _ bool) error {
	u := &usageError{err: err}
	switch {
	case c == nil:
	case c.Command != nil && c.Command.HelpName != "":
		u.help = c.Command.HelpName
	case c.App != nil:
		u.help = c.App.Name
	}
	return u
}

// Usagef is a usage error the command finds itself, past the flag
// parser (flags that do not go together): one line that points at the
// command's --help, and exit status UsageExit.
func Usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is a usage error (UsageError, Usagef).
func IsUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

// OneLineUsage makes UsageError the usage-error handler of app and of
// every command under it, so that a subcommand's bad flag is one line as
// the root's is, not its whole help (urfave/cli's default).
func OneLineUsage(app *cli.App) {
	app.OnUsageError = UsageError
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			c.OnUsageError = UsageError
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
}
