// Package cliargs lets the flashbench commands take their flags after
// their positional arguments (`loadgen URL -c 8`, `harness run NAME
// --trials 8`), as users of wrk and curl expect: urfave/cli, like the flag
// package, stops reading flags at the first positional argument.
package cliargs

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Reorder returns args (the arguments after the command's name and
// subcommand) with every flag of flags, and its value, moved in front of
// the positional arguments, each group in its order. A flag that is not a
// boolean takes the next argument as its value unless it is written
// --name=value; everything after "--" is positional.
func Reorder(flags []cli.Flag, args []string) []string {
	boolean := map[string]bool{"help": true, "h": true}
	for _, f := range flags {
		if _, ok := f.(*cli.BoolFlag); ok {
			for _, n := range f.Names() {
				boolean[n] = true
			}
		}
	}
	var opts, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			opts = append(opts, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !boolean[name] && i+1 < len(args) {
				opts = append(opts, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(opts, pos...)
}
