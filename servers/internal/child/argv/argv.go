// Package argv reads the command line of the programs a forking parent
// runs per connection (webserver-child, webserver-null-child): `NAME
// --config JSON`, or --help. It links the standard library's fmt alone,
// since its programs start once per connection.
package argv

import (
	"fmt"
	"io"
)

// ConfigFlag is the argument before the configuration (child.ConfigFlag).
const ConfigFlag = "--config"

// UsageExit is the exit status of a bad usage, as every flashbench command's.
const UsageExit = 2

// Parse reads args (without the program's name): `--config JSON` returns
// JSON; none returns "" (the parent gave no configuration); --help or -h
// writes help to stdout and returns done with status 0; anything else
// writes one "NAME: bad usage: ..." line to stderr and returns done with
// UsageExit.
func Parse(name, help string, args []string, stdout, stderr io.Writer) (config string, code int, done bool) {
	switch {
	case len(args) == 0:
		return "", 0, false
	case len(args) == 1 && (args[0] == "--help" || args[0] == "-help" || args[0] == "-h"):
		fmt.Fprintf(stdout, "%s %s JSON\n\n%s\n", name, ConfigFlag, help)
		return "", 0, true
	case len(args) == 2 && args[0] == ConfigFlag:
		return args[1], 0, false
	case args[0] != ConfigFlag && len(args[0]) > 0 && args[0][0] == '-':
		fmt.Fprintf(stderr, "%s: bad usage: flag provided but not defined: %s (see %s --help)\n", name, args[0], name)
	default:
		fmt.Fprintf(stderr, "%s: bad usage: want %s JSON, got %q (see %s --help)\n", name, ConfigFlag, args, name)
	}
	return "", UsageExit, true
}
