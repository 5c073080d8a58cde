package uringloop

import (
	"os"
	"os/signal"
	"syscall"

	"flashbench/servers/httpcore"
)

// leaseWatch is a Loop's side of its core's read leases (see evloop's
// lease.go). The loop sends mapped bodies, which sendmsg copies into the
// socket: no drain is needed, only what evloop does for a break of a
// mapped file. A connection still sending from a file whose lease is
// breaking is closed where it is (a short response), and the loop
// releases the files; each closes, giving its lease up, on its last
// release, which for a connection with a send in flight comes with that
// send's completion (its cancel is in the same submission as its close).
type leaseWatch struct {
	l       *Loop
	sigs    chan os.Signal
	done    chan struct{}
	closed  bool
	scratch []*httpcore.File
}

// newLeaseWatch registers the loop for SIGIO, the lease break signal,
// before any file is opened: a break signalled while nobody listens is
// lost, and its writer waits lease-break-time.
func newLeaseWatch(l *Loop) *leaseWatch {
	w := &leaseWatch{l: l, sigs: make(chan os.Signal, 1), done: make(chan struct{})}
	signal.Notify(w.sigs, syscall.SIGIO)
	go w.forward()
	return w
}

// forward turns signals into wake-ups of the loop.
func (w *leaseWatch) forward() {
	defer close(w.done)
	for range w.sigs {
		w.l.leaseReq.Store(true)
		w.l.poke()
	}
}

// wake handles SIGIO: any lease of the core may be breaking.
func (w *leaseWatch) wake() {
	l := w.l
	files := l.core.BrokenLeases(w.scratch[:0])
	if len(files) == 0 {
		return
	}
	for _, c := range l.conns[1:] {
		if !c.closed && c.hc.SendsStale() {
			l.st.WriteErrors.Add(1)
			l.close(c)
		}
	}
	for _, f := range files {
		f.Release()
	}
	clear(files)
	w.scratch = files[:0]
}

// close stops the watch.
func (w *leaseWatch) close() {
	if w.closed {
		return
	}
	w.closed = true
	signal.Stop(w.sigs)
	close(w.sigs)
	<-w.done
}
