// Package child carries a process architecture's configuration from the
// parent to the processes it starts: forking's per-connection children
// (the webserver-child program) and prefork's workers (the webserver's
// hidden prefork-worker subcommand). The parent's whole configuration
// travels as one JSON document in one argument, so that a child serves
// exactly what the parent would, and a field added to any of its parts
// reaches it without a line here.
package child

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/cgi"
	"flashbench/servers/internal/child/argv"
	"flashbench/servers/internal/connloop"
	"flashbench/servers/internal/httpconn"
)

// ConfigFlag is the argument before the child's configuration.
const ConfigFlag = argv.ConfigFlag

// Config is what a child or worker serves with.
type Config struct {
	// Core is the parent core's configuration, defaults filled in.
	Core httpcore.Config `json:"core"`
	// Serve are the serve options but for the counters and the CGI face,
	// which the child makes from CGI.
	Serve httpconn.ServeOptions `json:"serve"`
	// CGI configures the child's own CGI programs.
	CGI cgi.Options `json:"cgi"`
}

// Args returns command followed by ConfigFlag and cfg, its document root
// made absolute (a child may start in another directory).
func Args(command []string, cfg Config) ([]string, error) {
	var err error
	if cfg.Core.Root, err = filepath.Abs(cfg.Core.Root); err != nil {
		return nil, err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode the child's configuration: %w", err)
	}
	return append(append([]string(nil), command...), ConfigFlag, string(b)), nil
}

// Parse reads what Args wrote after the command; name (the child's
// command) prefixes its errors.
func Parse(name string, args []string) (Config, error) {
	var cfg Config
	if len(args) != 2 || args[0] != ConfigFlag {
		return cfg, fmt.Errorf("%s: usage: %s %s JSON (got %q)", name, name, ConfigFlag, args)
	}
	if err := json.Unmarshal([]byte(args[1]), &cfg); err != nil {
		return cfg, fmt.Errorf("%s: configuration: %w", name, err)
	}
	return cfg, nil
}

// Start parses the child's arguments and builds its core, its CGI face
// and the tracking of its connections (connloop.Track). The caller closes
// the core and, with Close, the rest.
func Start(name string, args []string) (*httpcore.Core, connloop.Options, error) {
	cfg, err := Parse(name, args)
	if err != nil {
		return nil, connloop.Options{}, err
	}
	core, err := httpcore.New(cfg.Core)
	if err != nil {
		return nil, connloop.Options{}, fmt.Errorf("%s: %w", name, err)
	}
	// HoldP: the connection loop is the one busy goroutine of a forking
	// child or prefork worker.
	opts := connloop.Options{ServeOptions: cfg.Serve, Conns: connloop.Track(core), HoldP: true}
	if cfg.CGI.Dir != "" { // each child runs its own persistent CGI processes
		opts.CGI = cgi.NewManager(core, cfg.CGI)
	}
	return core, opts, nil
}

// Close stops a child's CGI processes and its lease watch.
func Close(opts connloop.Options) {
	if opts.CGI != nil {
		opts.CGI.Close()
	}
	opts.Conns.Close()
}
