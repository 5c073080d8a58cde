package cgi

import (
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/cgi-apps/cgiproto"
	"flashbench/servers/httpcore"
)

// Interest of the pipes (epoll's bits, which a poll on a ring shares):
// the response pipe for input, the request pipe for output, edge-triggered
// (it is only waited for after a short write). readable drains the
// response pipe (to EAGAIN, or a short read, which leaves it empty), so
// that a loop whose polls are edge-triggered, as a ring's multishot
// poll is, loses no input either.
const (
	pipeIn    = unix.EPOLLIN
	pipeOutET = unix.EPOLLOUT | unix.EPOLLET
)

// lproc is a process of the Loop face.
type lproc[L Host[C], C any] struct {
	*proc
	m    *Loop[L, C]
	pool *lpool[L, C]
	dead bool

	// queue[qh:] are the requests the process holds, oldest first: it
	// answers them in this order. queue[qh:sent] are written to its pipe,
	// queue[sent:] still wait in wbuf.
	queue    []held[C]
	qh, sent int
	deadline time.Time // of the oldest request

	wbuf  []byte // frames not yet written: requests and releases
	woff  int
	dirty bool // in Loop.dirty

	rd         *rchunk // the read buffer: rd.b[rstart:rn] not yet parsed
	rstart, rn int

	inflight int // pool buffers handed to the loop, not yet released
	resp     cgiproto.Response
}

// held is a request a process holds.
type held[C any] struct {
	id  uint64
	w   waiter[C]
	end int // where its frame ends in wbuf, until written
}

// holds returns how many requests the process holds.
func (pr *lproc[L, C]) holds() int { return len(pr.queue) - pr.qh }

// push adds a request to the queue, moving the held ones to the front
// of its array rather than growing it while answered ones take room.
func (pr *lproc[L, C]) push(h held[C]) {
	if pr.qh > 0 && len(pr.queue) == cap(pr.queue) {
		n := copy(pr.queue, pr.queue[pr.qh:])
		clear(pr.queue[n:])
		pr.queue = pr.queue[:n]
		pr.sent -= pr.qh
		pr.qh = 0
	}
	pr.queue = append(pr.queue, h)
}

// flush writes pending frames until the pipe is full.
func (pr *lproc[L, C]) flush() error {
	for pr.woff < len(pr.wbuf) {
		n, err := rawWrite(pr.wfd, pr.wbuf[pr.woff:])
		switch err {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			pr.markSent()
			return nil // the edge-triggered EPOLLOUT resumes
		default:
			return os.NewSyscallError("write", err)
		}
		pr.woff += n
	}
	pr.wbuf, pr.woff = pr.wbuf[:0], 0
	pr.sent = len(pr.queue)
	return nil
}

// markSent moves the requests whose frames are written past sent.
func (pr *lproc[L, C]) markSent() {
	for pr.sent < len(pr.queue) && pr.queue[pr.sent].end <= pr.woff {
		pr.sent++
	}
}

// writable handles the request pipe's events.
func (pr *lproc[L, C]) writable(ev uint32) {
	if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 && pipeBroken(pr.wfd) {
		pr.die(502)
		return
	}
	if err := pr.flush(); err != nil {
		pr.die(502)
	}
}

// readable reads response frames and answers them.
func (pr *lproc[L, C]) readable(uint32) {
	for !pr.dead {
		if pr.rd == nil || pr.rn == len(pr.rd.b) {
			pr.makeRoom(0)
		}
		n, err := rawRead(pr.rfd, pr.rd.b[pr.rn:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != 0 || n == 0:
			pr.die(502) // the process closed its output: it died
			return
		}
		pr.rn += n
		short := pr.rn < len(pr.rd.b)
		if !pr.frames() {
			return
		}
		if short { // the pipe is empty: the loop says when it is not
			return
		}
	}
}

// frames answers the whole frames read. It reports false when the
// process was killed for a protocol violation.
func (pr *lproc[L, C]) frames() bool {
	answered := false
	for {
		kind, payload, k, err := cgiproto.Next(pr.rd.b[pr.rstart:pr.rn])
		if err == cgiproto.ErrShort {
			if need := frameLen(pr.rd.b[pr.rstart:pr.rn]); pr.rstart+need > len(pr.rd.b) {
				pr.makeRoom(need)
			}
			break
		}
		if err != nil || kind != cgiproto.KindResponse || pr.qh == pr.sent ||
			cgiproto.DecodeResponse(payload, &pr.resp) != nil || pr.resp.ID != pr.queue[pr.qh].id {
			pr.die(502)
			return false
		}
		pr.rstart += k
		pr.answer(pr.rd)
		if pr.dead {
			return false
		}
		answered = true
	}
	if pr.rstart == pr.rn && pr.rd.refs == 0 {
		pr.rstart, pr.rn = 0, 0
	}
	if answered && pr.holds() > 0 { // the next request's time starts now
		pr.deadline = time.Now().Add(pr.m.opts.Timeout)
	}
	return true
}

func frameLen(b []byte) int {
	if len(b) < cgiproto.HeaderSize {
		return 0
	}
	return cgiproto.HeaderSize + int(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24)
}

// answer plans the response in pr.resp for the oldest request held,
// whose inline body (if any) lies in ch, and completes the request.
func (pr *lproc[L, C]) answer(ch *rchunk) {
	m, r := pr.m, &pr.resp
	w := pr.queue[pr.qh].w
	pr.queue[pr.qh] = held[C]{}
	if pr.qh++; pr.qh == len(pr.queue) {
		pr.queue, pr.qh, pr.sent = pr.queue[:0], 0, 0
	}
	m.busy--
	core := m.l.Core()
	head := w.req.Method == httpcore.MethodHEAD
	switch {
	case len(r.Segments) == 0:
		core.PlanDynamic(w.req, r.Status, r.ContentType, int64(len(r.Body)), w.p)
		m.opts.Stats.UserCopyBytes.Add(uint64(len(r.Body)))
		if !head && len(r.Body) > 0 {
			// The body stays where it was read: the read buffer is
			// reused once every plan aliasing it has been sent.
			ch.refs++
			w.p.Kind, w.p.Bytes = httpcore.BodyBytes, r.Body
			w.p.File = httpcore.NewBufferFile(-1, 0, func() { m.unrefChunk(ch) })
		}
	case !pr.validSegment(r.Segments):
		pr.release(r.Segments)
		core.RespondError(502, w.req, w.p)
	default:
		pr.planShared(w, r.Segments[0], r.Flags&cgiproto.FlagZeroCopy != 0, head)
	}
	m.pump(pr.pool)
	m.l.Complete(w.c)
}

// planShared plans a body of the shared-memory pool. A buffer the
// program keeps immutable (zero copy) leaves by reference, with sendfile
// from the pool's memfd, like a static file from the page cache: the
// socket may hold its pages after the send, which the program allows for
// by detaching them before it reuses the range. Any other buffer, and a
// kept one smaller than minZeroCopy, leaves with the header in one writev
// straight from the shared pages: the writev has copied it when it
// returns, and the program may rewrite it as soon as it is released. So
// does a kept one on a loop that sends no file ranges (Host.SendsFiles).
// Either way the File carries the release hook: the loop releases the
// plan once its last byte has been handed to the socket (or the
// connection closed).
func (pr *lproc[L, C]) planShared(w waiter[C], s cgiproto.Segment, zeroCopy, head bool) {
	pr.m.l.Core().PlanDynamic(w.req, pr.resp.Status, pr.resp.ContentType, int64(s.Length), w.p)
	pr.m.shared.Add(1)
	if head || s.Length == 0 {
		pr.release([]cgiproto.Segment{s})
		return
	}
	pr.inflight++
	f := httpcore.NewBufferFile(pr.memfd, int64(pr.poolSize), func() { pr.released(s) })
	if zeroCopy && s.Length >= minZeroCopy && pr.m.l.SendsFiles() {
		w.p.Kind, w.p.File, w.p.Offset = httpcore.BodyFile, f, int64(s.Offset)
		return
	}
	end := s.Offset + s.Length
	w.p.Kind, w.p.Bytes, w.p.File = httpcore.BodyBytes, pr.mem[s.Offset:end:end], f
}

// minZeroCopy is the smallest kept body sent by reference: below it the
// copy of one writev costs less than sendfile's second system call and
// its page-by-page splice.
const minZeroCopy = 16 << 10

// validSegment reports whether segs is one page-aligned range of pr's
// pool (the runtime writes each body contiguously).
func (pr *lproc[L, C]) validSegment(segs []cgiproto.Segment) bool {
	if len(segs) != 1 || pr.memfd < 0 {
		return false
	}
	s := segs[0]
	return s.Offset%uint64(os.Getpagesize()) == 0 && s.Offset+s.Length >= s.Offset && s.Offset+s.Length <= uint64(pr.poolSize)
}

// released runs when the loop released the plan of a pool buffer: its last
// byte is in the socket (copied, or referenced for a zero-copy buffer),
// so the server is done with it.
func (pr *lproc[L, C]) released(s cgiproto.Segment) {
	pr.inflight--
	segs := [1]cgiproto.Segment{s}
	pr.release(segs[:])
}

// release tells the process that segs are free. The frame waits for the
// next write to the process: it needs pool pages only while it serves a
// request, and every request it gets comes after the releases due, in
// the same write, so a frame of its own would only wake it for nothing.
func (pr *lproc[L, C]) release(segs []cgiproto.Segment) {
	if pr.memfd < 0 {
		return
	}
	if pr.dead {
		if pr.inflight == 0 {
			pr.closePool()
		}
		return
	}
	pr.wbuf = cgiproto.AppendRelease(pr.wbuf, segs)
}

// die kills the process and answers the requests it held with status
// (502 if 0). Only the oldest can have made it die or hang: the others
// wait behind it, or were answered in a batch that never left. A request
// whose frame was not yet written whole never reached the process, and
// an idempotent one (GET, HEAD) may run again without harm, as a proxy
// retries it on another upstream: those go to another process, once.
// The rest fail with it.
func (pr *lproc[L, C]) die(status int) {
	if pr.dead {
		return
	}
	if status == 0 {
		status = 502
	}
	m, lp := pr.m, pr.pool
	pr.markSent()
	queue, qh, sent := pr.queue, pr.qh, pr.sent
	pr.queue, pr.qh, pr.sent = nil, 0, 0
	m.busy -= len(queue) - qh
	pr.discard()
	var retry, fail []waiter[C]
	for i := qh; i < len(queue); i++ {
		w := queue[i].w
		if !w.retried && (i >= sent || i > qh && idempotent(w.req)) {
			w.retried = true
			retry = append(retry, w)
		} else {
			fail = append(fail, w)
		}
	}
	lp.waiting = append(retry, lp.waiting...)
	for _, w := range fail {
		m.finish(w, status)
	}
	m.pump(lp)
}

// idempotent reports whether req may run twice (RFC 9110, 9.2.2): of the
// methods a CGI request may have, GET and HEAD.
func idempotent(req *httpcore.Request) bool {
	return req.Method == httpcore.MethodGET || req.Method == httpcore.MethodHEAD
}

// discard kills the process and forgets it, answering nothing.
func (pr *lproc[L, C]) discard() {
	if pr.dead {
		return
	}
	pr.dead = true
	m, lp := pr.m, pr.pool
	m.died.Add(1)
	m.l.RemoveFd(pr.rfd)
	m.l.RemoveFd(pr.wfd)
	// Close the pipes only after the current round of events: the loop
	// may still hold events of this round for these descriptors, and a
	// process spawned meanwhile would reuse the numbers and receive them.
	rfd, wfd := pr.rfd, pr.wfd
	pr.rfd, pr.wfd = -1, -1
	pr.kill()
	m.l.After(0, func() { closeAll(rfd, wfd) })
	if pr.inflight == 0 {
		pr.closePool()
	}
	if pr.rd != nil {
		m.dropChunk(pr.rd)
		pr.rd = nil
	}
	if i := slices.Index(lp.all, pr); i >= 0 {
		lp.all = slices.Delete(lp.all, i, i+1)
	}
}

// pipeBroken reports whether the reading end of the pipe fd is closed,
// asking the kernel again: an event may be stale, from an earlier
// descriptor with the same number in the same round of events.
func pipeBroken(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(fds, 0)
	return err != nil || n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0
}
