package forking

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/connloop"
)

// GracefulStop is the signal that asks a child to end its connection
// gracefully.
const GracefulStop = syscall.SIGWINCH

// ChildMain is a child process's main: it serves every request of the
// connection at ConnFD with the blocking loop, closes it and returns
// Serve's error. It ignores SIGINT and SIGTERM: a Ctrl-C reaches the
// whole process group, and the parent decides when a child must stop.
// SIGWINCH, which the parent sends on shutdown (Apache's graceful stop),
// ends the connection gracefully (opts.Conns.Stop): the response being
// sent completes, and an idle connection closes at once. Unlike SIGTERM,
// it does nothing to a child that has not set its handler up yet.
func ChildMain(core *httpcore.Core, opts connloop.Options) error {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, GracefulStop)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			opts.Conns.Stop()
		}
	}()
	err := connloop.Serve(ConnFD, core, opts)
	unix.Close(ConnFD)
	return err
}
