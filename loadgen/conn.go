package loadgen

import (
	"bytes"
	"crypto/sha256"
	"hash"

	"golang.org/x/sys/unix"
)

// request is one request in flight; times are ns since the run's start.
type request struct {
	t         *Target
	intended  int64 // when it should have started (open loop)
	start     int64 // when it started: connect or write
	sent      int64 // when its bytes were handed to the socket
	firstByte int64
	// warm marks a request of a warm-up pass of its own (Warmer): never
	// measured, even when its response comes after the warm-up.
	warm bool
}

// conn is one connection slot: a state machine that connects, writes its
// requests, reads their responses, and starts over.
type conn struct {
	fd         int
	gen        int32
	connecting bool
	sleeping   bool
	parked     bool // in the worker's idle list (open loop)
	issued     int  // requests issued on the current socket
	connStart  int64
	deadline   int64
	wake       int64
	inflight   []request // ring of Pipeline entries
	head, n    int
	wpending   []byte
	wbuf       []byte
	parser     ResponseParser
	hash       hash.Hash
	sum        [sha256.Size]byte
}

func (c *conn) init(cfg *Config) {
	c.fd = -1
	c.inflight = make([]request, cfg.Pipeline)
	c.parser.Reset()
	if cfg.Verify {
		c.hash = sha256.New()
		c.parser.Body = c.hash
	}
}

// measuredInFlight counts the requests in flight on c that a measurement
// counts: all but those of a warm-up pass of their own.
func (c *conn) measuredInFlight() int {
	n := 0
	for k := 0; k < c.n; k++ {
		if !c.inflight[(c.head+k)%len(c.inflight)].warm {
			n++
		}
	}
	return n
}

// queue appends request bytes to what the connection still has to write,
// without copying in the common case of one request at a time.
func (c *conn) queue(b []byte) {
	if len(c.wpending) == 0 {
		c.wpending = b
		return
	}
	c.wbuf = append(append(c.wbuf[:0], c.wpending...), b...)
	c.wpending = c.wbuf
}

func (w *worker) requestBytes(t *Target) []byte {
	if w.cfg.RequestsPerConn == 1 {
		return t.close
	}
	return t.keepAlive
}

// mayIssue reports whether slot c may start another request now.
func (w *worker) mayIssue(c *conn) bool {
	k := w.cfg.RequestsPerConn
	return !w.stopping && c.n < len(c.inflight) && (k == 0 || c.issued < k) && w.budget != 0
}

// issue starts as many requests on slot i as the models allow: a closed
// loop fills the pipeline, an open loop takes due arrivals only.
func (w *worker) issue(i int32, now int64) {
	c := &w.conns[i]
	if c.fd >= 0 && !c.connecting && c.n == 0 && w.cfg.RequestsPerConn != 0 && c.issued >= w.cfg.RequestsPerConn {
		w.closeConn(c)
	}
	for w.mayIssue(c) {
		intended := now
		if w.pacer != nil {
			if w.nextArrival > now {
				break
			}
			intended = w.nextArrival
			w.nextArrival = int64(w.pacer.Next())
		}
		t, warm := w.nextTarget(now)
		if t == nil {
			w.exhausted = true
			break
		}
		if !w.measuring(now) {
			w.warmupRequests++
		} else {
			if w.budget > 0 {
				w.budget--
			}
			if now-intended > int64(LateThreshold) {
				w.stats.total.Late++
				w.stats.interval.Late++
			}
		}
		c.inflight[(c.head+c.n)%len(c.inflight)] = request{t: t, intended: intended, start: now, sent: now, warm: warm}
		if c.n++; c.n == 1 {
			c.deadline = now + int64(w.cfg.Timeout)
		}
		c.issued++
		if c.fd >= 0 && !c.connecting {
			c.queue(w.requestBytes(t))
		}
	}
	switch {
	case c.n == 0:
		if w.pacer != nil && !w.stopping && !c.parked {
			c.parked = true
			w.idle = append(w.idle, i)
		}
	case c.fd < 0:
		w.connect(i, now)
	case !c.connecting:
		w.flush(i)
	}
}

// nextTarget draws the next request from the source: during the warm-up
// from its warm-up pass, when it keeps one apart (Warmer).
func (w *worker) nextTarget(now int64) (t *Target, warm bool) {
	if wu, ok := w.src.(Warmer); ok && !w.measuring(now) {
		return wu.NextWarmup(), true
	}
	return w.src.Next(), false
}

// connect opens a new socket for slot i; its queued requests go out once
// the connection is established.
func (w *worker) connect(i int32, now int64) {
	c := &w.conns[i]
	c.issued = c.n
	c.connStart = now
	c.deadline = now + int64(w.cfg.ConnectTimeout)
	if w.measuring(now) {
		w.stats.total.ConnectAttempt++
		w.stats.interval.ConnectAttempt++
	}
	errno := w.dial.connect(c)
	if errno == unix.EADDRNOTAVAIL && w.dial.exhausted() {
		// Out of ephemeral ports: spread over source addresses from now
		// on and try again at once.
		rawClose(c.fd)
		c.fd = -1
		errno = w.dial.connect(c)
	}
	switch errno {
	case 0:
		if w.register(i, now) {
			w.connected(i, now)
		}
	case unix.EINPROGRESS, unix.EINTR:
		w.register(i, now)
	default:
		w.fail(i, connectClass(errno), now)
	}
}

// register adds slot i's new socket to the epoll set, once for its whole
// life: edge-triggered, for reading and writing, so that no later call has
// to change it. Events of the slot's earlier sockets carry an older gen.
// It reports whether that worked; if not, the slot failed.
func (w *worker) register(i int32, now int64) bool {
	c := &w.conns[i]
	c.gen++
	w.ev = unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: i, Pad: c.gen}
	if errno := rawEpollCtl(w.epfd, unix.EPOLL_CTL_ADD, c.fd, &w.ev); errno != 0 {
		w.fail(i, AddrExhausted, now)
		return false
	}
	return true
}

// connected records the connect time and sends the queued requests.
func (w *worker) connected(i int32, now int64) {
	c := &w.conns[i]
	c.connecting = false
	// A connection made for warm-up requests of a pass of their own is
	// the warm-up's, like them.
	if w.measuring(now) && (c.n == 0 || c.measuredInFlight() > 0) {
		record(w.stats.Connect, now-c.connStart)
		w.stats.total.Connections++
		w.stats.interval.Connections++
	}
	if c.n == 0 {
		return
	}
	c.deadline = c.inflight[c.head].start + int64(w.cfg.Timeout)
	for k := 0; k < c.n; k++ {
		r := &c.inflight[(c.head+k)%len(c.inflight)]
		r.sent = now
		c.queue(w.requestBytes(r.t))
	}
	w.flush(i)
}

// flush writes what it can; it reports whether the connection is still up.
func (w *worker) flush(i int32) bool {
	c := &w.conns[i]
	for len(c.wpending) > 0 {
		n, errno := rawWrite(c.fd, c.wpending)
		switch errno {
		case 0:
			c.wpending = c.wpending[n:]
		case unix.EAGAIN:
			return true
		case unix.EINTR:
		default:
			w.fail(i, ioClass(errno, true), w.now())
			return false
		}
	}
	return true
}

// readable reads until the socket is drained, feeding the parser. A short
// read means drained, except when the peer hung up: the EOF that follows
// the data raises no new edge, so then it reads on until EOF or EAGAIN.
func (w *worker) readable(i int32, hup bool) {
	c := &w.conns[i]
	for c.fd >= 0 {
		n, errno := rawRead(c.fd, w.buf)
		switch {
		case errno == unix.EAGAIN:
			return
		case errno == unix.EINTR:
			continue
		case errno != 0:
			w.fail(i, ioClass(errno, false), w.now())
			return
		case n == 0:
			w.eof(i, w.now())
			return
		}
		gen := c.gen
		w.consume(i, w.buf[:n], w.now())
		if (n < len(w.buf) && !hup) || c.gen != gen {
			return
		}
	}
}

// consume feeds received bytes to the parser, completing responses.
func (w *worker) consume(i int32, b []byte, now int64) {
	c := &w.conns[i]
	for len(b) > 0 {
		if c.n == 0 {
			// Bytes nobody asked for: the server is broken. The slot is
			// parked or asleep already and will reconnect when it wakes.
			w.countError(ReadError, now, 1)
			w.closeConn(c)
			return
		}
		if !c.parser.Started() {
			c.inflight[c.head].firstByte = now
		}
		used, done, err := c.parser.Feed(b)
		b = b[used:]
		if err != nil {
			w.fail(i, ReadError, now)
			return
		}
		if !done {
			return
		}
		if !w.complete(i, now) {
			return
		}
	}
}

// eof handles the server closing the connection.
func (w *worker) eof(i int32, now int64) {
	c := &w.conns[i]
	if c.n == 0 {
		// An idle keep-alive connection timed out on the server; the slot
		// is parked or asleep and reconnects when it is next used.
		w.closeConn(c)
		return
	}
	done, err := c.parser.EOF()
	if done {
		c.parser.Close = true
		w.complete(i, now)
		return
	}
	class := ShortBody
	if err == ErrNoResponse {
		class = ReadError
	}
	w.fail(i, class, now)
}

// complete records the finished response at the head of slot i's pipeline
// and decides what the slot does next. It reports whether the connection
// is still open.
func (w *worker) complete(i int32, now int64) bool {
	c := &w.conns[i]
	req := c.inflight[c.head]
	c.inflight[c.head].t = nil
	c.head = (c.head + 1) % len(c.inflight)
	c.n--
	w.record(c, &req, now)
	closing := c.parser.Close
	c.parser.Reset()
	if c.hash != nil {
		c.hash.Reset()
	}
	if c.n > 0 {
		c.deadline = c.inflight[c.head].start + int64(w.cfg.Timeout)
	}
	if closing {
		// Requests pipelined behind a closing response were never served.
		c.n = 0
		w.closeConn(c)
	}
	gen := c.gen
	w.next(i, now)
	return !closing && c.fd >= 0 && c.gen == gen
}

// record adds a complete response to the worker's measurements.
func (w *worker) record(c *conn, req *request, now int64) {
	p := &c.parser
	w.done.Add(1)
	if !w.measuring(now) || req.warm {
		return
	}
	s := &w.stats
	record(s.Latency, now-req.intended)
	if w.pacer != nil {
		// Only an open loop sends late; a closed loop's uncorrected
		// histogram is its total one, which gather copies.
		record(s.Uncorrected, now-req.start)
	}
	record(s.ivHist, now-req.intended)
	record(s.TTFB, req.firstByte-req.sent)
	if cl := req.t.Class; cl >= 0 && cl < len(s.Classes) {
		if s.Classes[cl] == nil {
			s.Classes[cl] = NewHistogram()
		}
		record(s.Classes[cl], now-req.intended)
	}
	bytesIn := int64(p.HeaderBytes) + p.BodyBytes
	s.last = now
	s.total.Requests++
	s.interval.Requests++
	s.total.Bytes += bytesIn
	s.interval.Bytes += bytesIn
	switch {
	case p.Status < 200 || p.Status > 399:
		w.countError(BadStatus, now, 1)
	case c.hash != nil && req.t.HasSum && !bytes.Equal(c.hash.Sum(c.sum[:0]), req.t.SHA256[:]):
		w.countError(ChecksumMismatch, now, 1)
	case req.t.Size >= 0 && p.BodyBytes != req.t.Size && w.cfg.Verify:
		w.countError(ChecksumMismatch, now, 1)
	}
}

// next decides what slot i does after a response or a closed connection.
func (w *worker) next(i int32, now int64) {
	c := &w.conns[i]
	if c.sleeping || c.parked {
		return
	}
	switch {
	case w.stopping:
		if c.n == 0 {
			w.closeConn(c)
		}
	case c.n > 0:
		if c.fd < 0 {
			w.connect(i, now)
		} else {
			w.issue(i, now)
		}
	case w.cfg.ThinkTime > 0 && w.pacer == nil:
		c.sleeping = true
		c.wake = now + int64(w.cfg.ThinkTime)
		w.sleepers = append(w.sleepers, i)
	default:
		w.issue(i, now)
	}
}

// fail counts the in-flight requests of slot i (at least one) as errors
// of class, closes the connection, and lets the slot start over.
func (w *worker) fail(i int32, class ErrorClass, now int64) {
	c := &w.conns[i]
	n := c.measuredInFlight()
	if c.n == 0 {
		n = 1 // a connection that failed before it carried a request
	}
	w.countError(class, now, int64(n))
	c.n = 0
	w.closeConn(c)
	if w.pacer != nil && !w.stopping {
		// Open loop: park the slot; due arrivals find it on the next turn.
		if !c.parked {
			c.parked = true
			w.idle = append(w.idle, i)
		}
		return
	}
	if class == ConnectRefused || class == AddrExhausted || class == ConnectTimeout {
		// Back off briefly so a dead server does not turn into a busy loop.
		if !w.stopping && !c.sleeping {
			c.sleeping = true
			c.wake = now + int64(w.cfg.Timeout/100)
			w.sleepers = append(w.sleepers, i)
			return
		}
	}
	w.next(i, now)
}

// closeConn closes slot c's socket, if any, and clears its state.
func (w *worker) closeConn(c *conn) {
	if c.fd >= 0 {
		rawClose(c.fd)
		c.fd = -1
	}
	c.connecting = false
	c.issued = 0
	c.wpending = nil
	c.parser.Reset()
	if c.hash != nil {
		c.hash.Reset()
	}
}
