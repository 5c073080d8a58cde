package connloop

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// Leases is a process's side of its core's read leases
// (httpcore.Config.Lease) for the blocking loops. A truncation of a
// mapped file zeroes the rest of the page holding the new end, and a
// writev that goes on from the mapping would copy those zeros under the
// old Content-Length; the lease makes the truncater wait, and the kernel
// signals SIGIO. Leases then takes the broken files from the core (stale
// from then on: the pathname cache no longer hands them out), shuts the
// sending side of every connection still writing from one of them (its
// blocked writev returns, and the loop ends the response short), and
// releases the files. A Plan holds its file's reference until released,
// so the lease goes, and the truncater proceeds, once the last writev
// from the file has returned.
type Leases struct {
	core  *httpcore.Core
	sigs  chan os.Signal
	done  chan struct{}
	mu    sync.Mutex
	conns map[*conn]struct{}
}

// WatchLeases watches core's leases, or returns nil when core takes none.
// Call it before the first file is opened: a break signalled while
// nobody listens is lost, and its writer waits the kernel's
// lease-break-time. Close stops the watch.
func WatchLeases(core *httpcore.Core) *Leases {
	if !core.Config().Lease {
		return nil
	}
	w := &Leases{core: core, sigs: make(chan os.Signal, 1), done: make(chan struct{}), conns: make(map[*conn]struct{})}
	signal.Notify(w.sigs, syscall.SIGIO)
	go w.run()
	return w
}

// run handles each SIGIO: any lease of the core may be breaking.
func (w *Leases) run() {
	defer close(w.done)
	var files []*httpcore.File
	for range w.sigs {
		files = w.core.BrokenLeases(files[:0])
		if len(files) == 0 {
			continue
		}
		w.mu.Lock()
		for c := range w.conns {
			// Registered connections are open: a connection leaves
			// under mu before its descriptor is closed.
			if f := c.sending.Load(); f != nil && f.Stale() {
				unix.Shutdown(c.fd, unix.SHUT_WR)
			}
		}
		w.mu.Unlock()
		for _, f := range files {
			f.Release()
		}
		clear(files)
	}
}

// add registers c, whose descriptor is open, for the watch.
func (w *Leases) add(c *conn) {
	w.mu.Lock()
	w.conns[c] = struct{}{}
	w.mu.Unlock()
}

// remove forgets c before its descriptor is closed.
func (w *Leases) remove(c *conn) {
	w.mu.Lock()
	delete(w.conns, c)
	w.mu.Unlock()
}

// Close stops the watch. A nil Leases does nothing.
func (w *Leases) Close() {
	if w == nil {
		return
	}
	signal.Stop(w.sigs)
	close(w.sigs)
	<-w.done
}
