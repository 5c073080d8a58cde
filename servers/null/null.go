// Package null is flashbench's physical-limit reference: an event loop
// that answers every request with the same small response from memory
// after finding the end of its header. It parses nothing else, opens no
// file and validates nothing, so it is a measuring stick for what the
// machine, the kernel's TCP stack and the load generator allow, NOT a
// server to use.
package null

import (
	"bytes"
	"time"

	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/httpconn"
)

// Body is the body of every response.
const Body = "flashbench null server\n"

// MaxRequest is the longest request header accepted; a longer one closes
// the connection.
const MaxRequest = 16 << 10

var (
	keepAlive = []byte("HTTP/1.1 200 OK\r\nServer: flashbench-null\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n\r\n" + Body)
	closing   = []byte("HTTP/1.1 200 OK\r\nServer: flashbench-null\r\nContent-Type: text/plain\r\nContent-Length: 23\r\nConnection: close\r\n\r\n" + Body)
)

// Server is the null server.
type Server struct {
	loop *evloop.Loop
}

// New builds a Server on the listening socket lfd (made non-blocking).
func New(lfd int, opts httpconn.ServeOptions) (*Server, error) {
	l, err := evloop.NewRaw(lfd, Answer, MaxRequest, opts)
	if err != nil {
		return nil, err
	}
	return &Server{loop: l}, nil
}

// Run serves on the calling goroutine until Shutdown has finished.
func (s *Server) Run() error { return s.loop.Run() }

// Shutdown stops accepting and makes Run return within deadline.
func (s *Server) Shutdown(deadline time.Duration) { s.loop.Shutdown(deadline) }

var (
	crlfcrlf    = []byte("\r\n\r\n")
	http10      = []byte("HTTP/1.0")
	connClose   = []byte("onnection: close")
	connCloseLC = []byte("onnection: Close")
)

// Answer is the null server's httpconn.RawFunc: a request ends at the first
// CRLF CRLF; HTTP/1.0 and "Connection: close" (crudely matched) close the
// connection after the response, anything else keeps it open.
func Answer(in []byte) (n int, resp []byte, closeAfter bool) {
	end := bytes.Index(in, crlfcrlf)
	if end < 0 {
		return 0, nil, false
	}
	req := in[:end]
	line := req
	if i := bytes.IndexByte(req, '\n'); i >= 0 {
		line = req[:i]
	}
	if bytes.Contains(line, http10) || bytes.Contains(req, connClose) || bytes.Contains(req, connCloseLC) {
		return end + 4, closing, true
	}
	return end + 4, keepAlive, false
}
