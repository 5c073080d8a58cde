// Package amped is the Flash architecture of the Flash paper (AMPED,
// asymmetric multi-process event-driven): a SPED event loop that never
// blocks on disk, because every pathname translation it cannot answer from
// its cache and every piece of file data that is not resident (mincore)
// goes to a helper process over a pipe. The helper does the blocking stat,
// open or read, and replies with a completion only; the loop then finds
// the metadata or pages in memory and serves them from its own caches.
//
// Helpers are the server's own binary re-executed (Go cannot fork without
// exec), running HelperMain on their standard input and output. They are
// started on demand up to a bound, kept in reserve when idle, killed with
// the server (PR_SET_PDEATHSIG), reaped when they die and replaced; a job
// whose helper died, or was killed for outliving the job deadline
// (PoolOptions.Timeout), is retried once, then answered 503. Helpers that
// die before completing any job are replaced after a growing delay, never
// one per request.
//
// Flash-Lite (the IO-Lite paper's Flash) is this architecture with the core
// planning file bodies as file ranges (httpcore.Config.SendFile): the loop
// tests their residency with cachestat(2) and sends them with sendfile from
// the page cache, header and body coalesced with MSG_MORE, so no byte of
// file data is copied in user space and none is buffered twice.
package amped

import (
	"time"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/httpconn"
)

// Server is an AMPED server: an event loop with a Handler and its helpers.
type Server struct {
	loop    *evloop.Loop
	handler *Handler
}

// New builds a Server on the non-blocking listening socket lfd, serving
// core, with helpers run as popts says.
func New(lfd int, core *httpcore.Core, opts httpconn.ServeOptions, popts PoolOptions) (*Server, error) {
	h := NewHandler(core, popts)
	l, err := evloop.New(lfd, core, h, opts)
	if err != nil {
		return nil, err
	}
	if err := h.Attach(l); err != nil {
		return nil, err
	}
	return &Server{loop: l, handler: h}, nil
}

// Run serves on the calling goroutine, locked to its OS thread, until
// Shutdown has finished; then it kills and reaps the helpers.
func (s *Server) Run() error {
	err := s.loop.Run()
	s.handler.Close()
	return err
}

// Shutdown stops accepting, lets the requests in flight finish (helpers
// keep working meanwhile) and closes idle connections; Run returns within
// deadline. Safe from any goroutine.
func (s *Server) Shutdown(deadline time.Duration) { s.loop.Shutdown(deadline) }

// Stats returns the helper counters; safe from any goroutine.
func (s *Server) Stats() Stats { return s.handler.Stats() }
