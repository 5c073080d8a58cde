// Package null is flashbench's physical-limit reference: an event loop
// that answers every request with the same response from memory (a small
// one, or a body of a given size) after finding the end of its header. It
// parses nothing else, opens no file and validates nothing, so it is a
// measuring stick for what the machine, the kernel's TCP stack and the
// load generator allow, NOT a server to use.
package null

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/httpconn"
)

// Body is the body of every response by default.
const Body = "flashbench null server\n"

// MaxBodySize bounds the body New accepts: the response lives in memory.
const MaxBodySize = 16 << 20

// MaxRequest is the longest request header accepted; a longer one closes
// the connection.
const MaxRequest = 16 << 10

// Server is the null server.
type Server struct {
	loop *evloop.Loop
}

// New builds a Server on the listening socket lfd (made non-blocking). Its
// responses carry Body, or with bodySize > 0 a body of that many bytes (a
// repetition of Body), so that the reference moves as many bytes as the
// servers it is compared with: a 50 KB body copied from memory is the
// floor of any server that copies file data into its socket.
func New(lfd int, opts httpconn.ServeOptions, bodySize int) (*Server, error) {
	if bodySize < 0 || bodySize > MaxBodySize {
		return nil, fmt.Errorf("null: body size %d, want 0 to %d", bodySize, MaxBodySize)
	}
	answer := Answer
	if bodySize > 0 {
		answer = newResponder(bodySize).answer
	}
	l, err := evloop.NewRaw(lfd, answer, MaxRequest, opts)
	if err != nil {
		return nil, err
	}
	return &Server{loop: l}, nil
}

// Responses returns the keep-alive and the closing response with a body
// of bodySize bytes (Body when bodySize is 0).
func Responses(bodySize int) (keepAlive, closing []byte) {
	body := []byte(Body)
	if bodySize > 0 {
		body = bytes.Repeat(body, bodySize/len(Body)+1)[:bodySize]
	}
	head := "HTTP/1.1 200 OK\r\nServer: flashbench-null\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	keepAlive = append([]byte(head+"\r\n"), body...)
	closing = append([]byte(head+"Connection: close\r\n\r\n"), body...)
	return keepAlive, closing
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

// requestEnd finds the end of the request at the start of in: a request
// ends at the first CRLF CRLF; HTTP/1.0 and "Connection: close" (crudely
// matched) close the connection after the response, anything else keeps
// it open. n is 0 while the request is incomplete.
func requestEnd(in []byte) (n int, closeAfter bool) {
	end := bytes.Index(in, crlfcrlf)
	if end < 0 {
		return 0, false
	}
	req := in[:end]
	line := req
	if i := bytes.IndexByte(req, '\n'); i >= 0 {
		line = req[:i]
	}
	closeAfter = bytes.Contains(line, http10) || bytes.Contains(req, connClose) || bytes.Contains(req, connCloseLC)
	return end + 4, closeAfter
}

// responder answers with one pair of canned responses.
type responder struct{ keepAlive, closing []byte }

func newResponder(bodySize int) responder {
	var r responder
	r.keepAlive, r.closing = Responses(bodySize)
	return r
}

// answer is an httpconn.RawFunc.
func (r responder) answer(in []byte) (n int, resp []byte, closeAfter bool) {
	n, closeAfter = requestEnd(in)
	switch {
	case n == 0:
		return 0, nil, false
	case closeAfter:
		return n, r.closing, true
	}
	return n, r.keepAlive, false
}

var defaultResponder = newResponder(0)

// Answer is the null server's httpconn.RawFunc with the default body, for
// the processes that answer as it does (webserver-null-child).
func Answer(in []byte) (n int, resp []byte, closeAfter bool) { return defaultResponder.answer(in) }
