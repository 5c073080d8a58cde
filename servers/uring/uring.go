// Package uring is the io_uring architecture: AMPED's one thread and
// shared core, with every socket operation (accept, recv, send, close)
// handed to the kernel through one io_uring instead of readiness
// notifications and non-blocking calls (servers/internal/uringloop), and
// AMPED's helper processes replaced by file operations on the same ring
// (Handler): a translation miss is a statx, non-resident data a read. It
// asks the question the HotOS 1997 paper asks of generic OS enhancements:
// does an asynchronous interface to the kernel make AMPED's helper
// processes unnecessary?
//
// Leases: every architecture's core leases the files it opens. This one
// sends mapped bodies, which sendmsg copies into the socket, so on a
// lease break it only closes the connections still sending from the file
// and releases it, as sped does; it never sends file pages by reference
// (flashlite's sendfile path), whose drain a lease would have to wait
// for.
package uring

import (
	"time"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/uringloop"
)

// Server is an io_uring server: a uringloop.Loop answering through a
// Handler, whose file operations go through the same ring.
type Server struct {
	loop *uringloop.Loop
	h    *Handler
}

// New builds a Server on the listening socket lfd. Its error says in one
// line when the machine cannot run it: io_uring disabled or forbidden
// (matching internal/uring.ErrUnavailable), or an operation missing.
func New(lfd int, core *httpcore.Core, opts httpconn.ServeOptions) (*Server, error) {
	h, err := NewHandler(core)
	if err != nil {
		return nil, err
	}
	l, err := uringloop.New(lfd, core, h, opts)
	if err != nil {
		h.Close()
		return nil, err
	}
	h.Attach(l)
	return &Server{loop: l, h: h}, nil
}

// SetSendZCMin makes responses of at least n bytes leave by zero-copy
// sendmsg (uringloop.Loop.SetSendZCMin); call it before Run.
func (s *Server) SetSendZCMin(n int) error { return s.loop.SetSendZCMin(n) }

// Stats returns the handler's counters; it is safe from any goroutine.
func (s *Server) Stats() StatsSnapshot { return s.h.Stats() }

// Probe checks, before a server listens, that the machine can run it.
func Probe() error {
	r, err := uringloop.Probe()
	if err != nil {
		return err
	}
	return r.Close()
}

// Run serves on the calling goroutine, locked to its OS thread, until
// Shutdown has finished.
func (s *Server) Run() error {
	defer s.h.Close()
	return s.loop.Run()
}

// Shutdown stops accepting, lets the requests in flight finish and closes
// idle connections; Run returns within deadline. Safe from any goroutine.
func (s *Server) Shutdown(deadline time.Duration) { s.loop.Shutdown(deadline) }
