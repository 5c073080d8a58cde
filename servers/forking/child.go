package forking

import (
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/connloop"
)

// ChildMain is a child process's main: it serves every request of the
// connection at ConnFD with the blocking loop, closes it and returns
// Serve's error. It ignores SIGINT and SIGTERM: a Ctrl-C reaches the whole
// process group, and the parent, which lets every child finish its
// connection on shutdown, decides when a child must die.
func ChildMain(core *httpcore.Core, opts connloop.Options) error {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
	err := connloop.Serve(ConnFD, core, opts)
	unix.Close(ConnFD)
	return err
}
