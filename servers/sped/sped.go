// Package sped is the single-process event-driven architecture of the
// Flash paper (Flash-SPED, the Zeus and thttpd model): one thread runs an
// epoll loop over non-blocking sockets and does all the file-system work
// inline. A pathname translation or a page of file data that is not in
// memory stops every connection until the disk answers; that is the
// behaviour the paper measures against AMPED.
package sped

import (
	"time"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/httpconn"
)

// Server is a SPED server: an event loop answering with core.Respond.
type Server struct {
	loop *evloop.Loop
}

// New builds a Server on the listening socket lfd (made non-blocking).
func New(lfd int, core *httpcore.Core, opts httpconn.ServeOptions) (*Server, error) {
	l, err := evloop.New(lfd, core, nil, opts)
	if err != nil {
		return nil, err
	}
	return &Server{loop: l}, nil
}

// Run serves on the calling goroutine, locked to its OS thread, until
// Shutdown has finished.
func (s *Server) Run() error { return s.loop.Run() }

// Shutdown stops accepting, lets the requests in flight finish and closes
// idle connections; Run returns within deadline. Safe from any goroutine.
func (s *Server) Shutdown(deadline time.Duration) { s.loop.Shutdown(deadline) }
