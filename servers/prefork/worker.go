package prefork

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/connloop"
	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/stats"
)

// WorkerMain is a worker process's main: a blocking accept-serve loop on
// the listener at ListenerFD, one connection at a time, counting accepts
// in the master's counters at CountersFD, until SIGTERM; then it finishes
// the response it is sending, ends a connection idle between requests at
// once (opts.Conns.Stop), and returns nil. It ignores SIGINT: a Ctrl-C
// reaches the whole process group, and the master, not the terminal,
// decides when workers stop.
func WorkerMain(core *httpcore.Core, opts connloop.Options) error {
	signal.Ignore(syscall.SIGINT)
	counters, err := stats.MapShared(CountersFD)
	if err != nil {
		return err
	}
	unix.Close(CountersFD) // mapped: the descriptor has done its work
	acc, err := listen.NewAcceptor(ListenerFD, listen.Options{Blocking: true,
		Counters: listen.Counters{Accepted: counters.Connections, Failed: counters.AcceptErrors}})
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() { <-sigs; close(stop); opts.Conns.Stop() }()
	return connloop.ServeListener(acc, core, opts, stop)
}
