package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"flashbench/servers/forking"
	"flashbench/servers/internal/child"
	"flashbench/servers/internal/proctree"
)

var (
	maxChildren  int
	childProgram string
)

// DefaultChild is the forking child program: it serves one connection.
const DefaultChild = "webserver-child"

func init() {
	registerArch(Arch{
		Name:    "forking",
		Summary: "a new process per connection (NCSA-style MP); each runs the small webserver-child program, since Go cannot fork without exec",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "max-children", Value: forking.DefaultMaxChildren,
				Usage: "forking: most child processes alive at once (--max-conns lowers it); beyond it accepting waits", Destination: &maxChildren},
			&cli.StringFlag{Name: "child", Value: DefaultChild,
				Usage: "forking: the program each connection's process runs, a path or a name found next to this binary; " +
					"webserver-null-child answers the null server's canned response, the floor of a process per connection", Destination: &childProgram},
		},
		Wait: WaitChildren,
		Run:  runForking,
	})
}

// runForking accepts connections and serves each in a child running
// `webserver-child --config JSON` with the socket at fd 3.
func runForking(ctx *RunContext) error {
	prog, err := findChild(childProgram)
	if err != nil {
		return err
	}
	cmd, err := child.Args([]string{prog}, childConfig(ctx))
	if err != nil {
		return err
	}
	limit := processBound(maxChildren, ctx.Options.MaxConns)
	s, err := forking.New(ctx.Listener, forking.Options{Children: proctree.Children{Command: cmd}, MaxChildren: limit, Stats: ctx.Stats})
	if err != nil {
		return err
	}
	ctx.Stats.AddSource("forking", func() any {
		return map[string]any{
			"child_program":       prog,
			"children_started":    s.Started(),
			"children_failed":     s.Failed(),
			"max_children":        limit,
			"peak_tree_processes": s.PeakMemory().Processes,
		}
	})
	return serveProcs(ctx, s, s.PeakMemory)
}

// findChild returns the path of the child program name: name itself when
// it holds a slash, else the file of that name next to this binary (make
// build puts them side by side in bin/). It must be an executable file.
func findChild(name string) (string, error) {
	path := name
	if !strings.Contains(name, "/") {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("find own binary: %w", err)
		}
		path = filepath.Join(filepath.Dir(exe), name)
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("child program %s not found (make build puts it next to the webserver)", path)
	}
	if err != nil {
		return "", fmt.Errorf("child program: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("child program %s is not an executable file", path)
	}
	return filepath.Abs(path)
}
