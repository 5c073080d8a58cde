package connloop

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// Conns follows a process's open connections, so that another goroutine
// can act on them while their threads block in system calls.
//
// Stop ends them gracefully at shutdown: a connection waiting for its
// next request has its receiving side shut, so that its blocked read
// returns what the client already sent, if anything, and then the end of
// the stream; a connection in the middle of a request finishes its
// response first.
//
// Read leases (httpcore.Config.Lease): a truncation of a mapped file
// zeroes the rest of the page holding the new end, and a writev that
// went on from the mapping would copy those zeros under the old
// Content-Length. The lease makes the truncater wait, and the kernel
// signals SIGIO; Conns then takes the broken files from the core (stale
// from then on: the pathname cache no longer hands them out), shuts the
// sending side of every connection still writing from one of them (its
// blocked writev returns, and the loop ends the response short), and
// releases the files. A Plan holds its file's reference until released,
// so the lease goes, and the truncater proceeds, once the last writev
// from the file has returned.
type Conns struct {
	core     *httpcore.Core
	stopping atomic.Bool
	mu       sync.Mutex
	conns    map[*conn]struct{}
	sigs     chan os.Signal // nil when the core takes no leases
	done     chan struct{}
}

// Track returns an empty set of connections served with core, watching
// core's leases if it takes them. Call it before the first file is
// opened: a lease break signalled while nobody listens is lost, and its
// writer waits the kernel's lease-break-time. Close stops the watch.
func Track(core *httpcore.Core) *Conns {
	cs := &Conns{core: core, conns: make(map[*conn]struct{})}
	if core.Config().Lease {
		cs.sigs, cs.done = make(chan os.Signal, 1), make(chan struct{})
		signal.Notify(cs.sigs, syscall.SIGIO)
		go cs.watchLeases()
	}
	return cs
}

// Stop ends the connections gracefully: those waiting for a request now,
// the others once their response is sent. A nil Conns does nothing.
func (cs *Conns) Stop() {
	if cs == nil {
		return
	}
	cs.stopping.Store(true)
	cs.each(func(c *conn) {
		if c.idle.Load() {
			unix.Shutdown(c.fd, unix.SHUT_RD)
		}
	})
}

// Cut shuts every connection down in both directions, at the end of a
// shutdown's grace: their blocked calls return and their loops end. A nil
// Conns does nothing.
func (cs *Conns) Cut() {
	if cs == nil {
		return
	}
	cs.each(func(c *conn) { unix.Shutdown(c.fd, unix.SHUT_RDWR) })
}

// Close stops the lease watch. A nil Conns does nothing.
func (cs *Conns) Close() {
	if cs == nil || cs.sigs == nil {
		return
	}
	signal.Stop(cs.sigs)
	close(cs.sigs)
	<-cs.done
}

// watchLeases handles each SIGIO: any lease of the core may be breaking.
func (cs *Conns) watchLeases() {
	defer close(cs.done)
	var files []*httpcore.File
	for range cs.sigs {
		files = cs.core.BrokenLeases(files[:0])
		if len(files) == 0 {
			continue
		}
		cs.each(func(c *conn) {
			if f := c.sending.Load(); f != nil && f.Stale() {
				unix.Shutdown(c.fd, unix.SHUT_WR)
			}
		})
		for _, f := range files {
			f.Release()
		}
		clear(files)
	}
}

// each calls fn on every open connection. A connection leaves under mu
// before its descriptor is closed, so fn never meets a reused descriptor.
func (cs *Conns) each(fn func(*conn)) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for c := range cs.conns {
		fn(c)
	}
}

// add registers c, whose descriptor is open.
func (cs *Conns) add(c *conn) {
	cs.mu.Lock()
	cs.conns[c] = struct{}{}
	cs.mu.Unlock()
}

// remove forgets c before its descriptor is closed.
func (cs *Conns) remove(c *conn) {
	cs.mu.Lock()
	delete(cs.conns, c)
	cs.mu.Unlock()
}
