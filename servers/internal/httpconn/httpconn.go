// Package httpconn is the connection layer every flashbench wait strategy
// shares: an I/O-free state machine that owns everything between the
// bytes a connection receives and the buffers it sends. It grows and
// bounds the request buffer, parses pipelined requests with httpcore,
// skips request bodies and takes in CGI request bodies, decides
// keep-alive, lingering close and which timeout bounds each wait, and
// turns Plans into iovecs and sendfile ranges. It makes no system call.
//
// A wait strategy (servers/internal/evloop: epoll readiness and
// non-blocking calls; servers/internal/connloop: blocking calls on a
// thread) only waits and moves bytes. It asks Conn.Next what the
// connection needs, does it, and reports back:
//
//	for {
//		switch c.Next(now) {
//		case httpconn.StepRead:    // read into c.ReadBuffer(), then c.Received(n, now)
//		case httpconn.StepRequest: // plan c.Request() into c.Plan(), then c.Queue(now) (or c.Hold())
//		case httpconn.StepBody:    // read into c.BodyBuffer(), then c.BodyReceived(n)
//		case httpconn.StepSend:    // write c.Iovecs() and c.SendFile(), then c.Sent()
//		case httpconn.StepFinish:  // close, or half-close and linger when c.Unread()
//		case httpconn.StepWait:    // a handler holds the request until Complete
//		}
//	}
//
// A new architecture is a new wait strategy plugged onto this loop.
// Times are nanoseconds on whatever monotonic clock the wait strategy
// keeps; the Conn only compares them.
package httpconn

import (
	"time"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/stats"
)

// MaxBatch bounds the pipelined responses a connection queues before
// sending them: they share one writev, and each holds a Plan until it is
// sent.
const MaxBatch = 16

// MaxIovecs is IOV_MAX on Linux: the most buffers one writev takes.
const MaxIovecs = 1024

// LingerTime and LingerBytes bound the lingering close after an error
// response, or when the client sent bytes the connection will not read:
// closing with unread input would make the kernel reset the connection
// and could destroy the response before the client reads it.
const (
	LingerTime  = 2 * time.Second
	LingerBytes = 1 << 20
)

// RawFunc answers requests without httpcore, for the null architecture:
// given the unconsumed input it returns how many bytes one request took
// (0 when the request is incomplete), the response bytes to send (kept,
// never copied: they must stay unchanged), and whether to close after it.
type RawFunc func(in []byte) (n int, resp []byte, closeAfter bool)

// Server is what the connections of one wait strategy share: the core,
// the options with their defaults, and the bounds derived from them. It
// is read-only once made, so threads may share it.
type Server struct {
	core   *httpcore.Core // nil for a raw server
	raw    RawFunc
	opts   ServeOptions
	limits httpcore.Limits
	maxBuf int
	batch  int
	st     *stats.Counters
}

// New returns the connection layer for core. batch bounds the pipelined
// responses sent together (1 to MaxBatch): a blocking loop that sends
// each response before it reads on takes 1.
func New(core *httpcore.Core, opts ServeOptions, batch int) *Server {
	opts = opts.WithDefaults()
	lim := core.Config().Limits.WithDefaults()
	return &Server{core: core, opts: opts, limits: lim, batch: min(max(batch, 1), MaxBatch),
		maxBuf: max(opts.ReadBufferSize, MaxHeaderBytes(lim)), st: opts.Stats}
}

// NewRaw returns a connection layer that answers with fn alone: no
// parser, no core, no files. A request longer than maxRequest bytes
// overflows the buffer (ReadBuffer returns nil).
func NewRaw(fn RawFunc, maxRequest int, opts ServeOptions, batch int) *Server {
	opts = opts.WithDefaults()
	return &Server{raw: fn, opts: opts, batch: min(max(batch, 1), MaxBatch),
		maxBuf: max(opts.ReadBufferSize, maxRequest), st: opts.Stats}
}

// MaxHeaderBytes is the longest request header the parser accepts under
// lim, and so the largest request buffer a connection needs.
func MaxHeaderBytes(lim httpcore.Limits) int {
	return lim.MaxRequestLine + 2 + lim.MaxHeaders*(lim.MaxHeaderLine+2) + 2
}

// Options returns the options with their defaults filled in.
func (s *Server) Options() ServeOptions { return s.opts }

// Core returns the core the connections are served with (nil for a raw
// server).
func (s *Server) Core() *httpcore.Core { return s.core }

// Raw reports whether the server answers with a RawFunc.
func (s *Server) Raw() bool { return s.raw != nil }

// Init readies c, new or reset, to serve with s. It allocates the
// buffers a connection keeps for life, unless c has them already.
func (s *Server) Init(c *Conn) {
	c.srv = s
	if len(c.buf) == 0 {
		c.buf = make([]byte, s.opts.ReadBufferSize)
	}
	if len(c.plans) != s.batch {
		c.plans = make([]httpcore.Plan, s.batch)
	}
	c.parser.Limits = s.limits
}
