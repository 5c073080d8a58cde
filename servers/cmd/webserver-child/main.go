// Command webserver-child serves one connection of the forking
// architecture and exits: `webserver --arch forking` accepts each
// connection and runs `webserver-child --config JSON` with the socket at
// descriptor 3 and the parent's whole configuration in JSON.
//
// It is a program of its own, not the webserver re-executed, because a
// Go program starts by initialising every package it links, and the
// webserver links every architecture, the command line and the baseline
// servers (net/http, fasthttp): paid once per connection, that start-up
// was most of forking's CPU. This one links the shared HTTP core and the
// blocking connection loop alone.
package main

import (
	"fmt"
	"os"

	"flashbench/servers/forking"
	"flashbench/servers/internal/child"
	"flashbench/servers/internal/child/argv"
)

const (
	name = "webserver-child"
	help = "Serves the connection at descriptor 3 with the parent's configuration (JSON) and exits.\n" +
		"webserver --arch forking runs it once per connection; it is not meant to be run by hand."
)

func main() {
	config, code, done := argv.Parse(name, help, os.Args[1:], os.Stdout, os.Stderr)
	if !done && config == "" {
		fmt.Fprintf(os.Stderr, "%s: bad usage: no %s JSON: webserver --arch forking runs it (see %s --help)\n", name, argv.ConfigFlag, name)
		code, done = argv.UsageExit, true
	}
	if done {
		os.Exit(code)
	}
	if err := run(config); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves the connection at forking.ConnFD. A connection that ends in
// an error (a client reset, a timeout) is not the child's failure: like
// the other blocking loops, it is dropped, not printed.
func run(config string) error {
	core, opts, err := child.Start(name, []string{child.ConfigFlag, config})
	if err != nil {
		return err
	}
	defer core.Close()
	defer child.Close(opts)
	forking.ChildMain(core, opts)
	return nil
}
