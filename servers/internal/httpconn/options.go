package httpconn

import (
	"time"

	"flashbench/servers/internal/stats"
)

// Defaults for zero ServeOptions fields. They are the only ones: every
// architecture, the baselines included, serves with these.
const (
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultReadBufferSize = 4 << 10
)

// ServeOptions are the options every architecture serves with, whatever
// its wait strategy. A zero field takes its default. The JSON form (every
// field but Stats and CGI) is how a re-executed child gets them.
type ServeOptions struct {
	// HeaderTimeout bounds the time from the first byte of a request to
	// the end of its header (408 and close beyond it), the wait for the
	// first request of a new connection (close, no answer) and each wait
	// for request body bytes.
	HeaderTimeout time.Duration `json:"header_timeout_ns"`
	// IdleTimeout bounds the wait for the next request on a persistent
	// connection (close, no answer).
	IdleTimeout time.Duration `json:"idle_timeout_ns"`
	// WriteTimeout bounds the time a response makes no progress because
	// the client does not read.
	WriteTimeout time.Duration `json:"write_timeout_ns"`
	// ReadBufferSize is the initial request buffer of a connection; it
	// grows up to what the parser limits allow for one request header.
	ReadBufferSize int `json:"read_buffer_bytes"`
	// MaxConns, when positive, bounds the open connections.
	MaxConns int `json:"max_conns"`
	// Stats, when set, receives the counters: responses by status and
	// bytes sent (Conn), connections and errors (the wait strategy).
	Stats *stats.Counters `json:"-"`
	// CGI, when set, answers the requests whose path names a CGI program
	// (httpcore.Core.CGIName), before any other handler sees them.
	CGI CGI `json:"-"`
}

// WithDefaults returns o with every zero (or negative) timeout and buffer
// size set to its default.
func (o ServeOptions) WithDefaults() ServeOptions {
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = DefaultHeaderTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	return o
}

// CGI is the face through which a wait strategy serves the CGI programs.
// How a request waits for its program is the wait strategy's business, so
// each takes its own kind of face (servers/internal/cgi makes both): an
// event loop an evloop.CGI, which answers later on the loop's thread; a
// blocking loop a connloop.CGI, which blocks its thread. A wait strategy
// given a face of another kind refuses it when it is built.
type CGI interface {
	// Close stops the programs the face started. Call it once nothing
	// serves through the face any more.
	Close()
}
