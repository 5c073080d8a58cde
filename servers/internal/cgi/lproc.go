package cgi

import (
	"os"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/cgi-apps/cgiproto"
	"flashbench/servers/httpcore"
)

// Epoll interest of the pipes: the response pipe level-triggered, the
// request pipe edge-triggered for output (it is only waited for after a
// short write).
const (
	evloopIn    = unix.EPOLLIN
	evloopOutET = unix.EPOLLOUT | unix.EPOLLET
)

// lproc is a process of the Loop face.
type lproc struct {
	*proc
	m    *Loop
	pool *lpool
	dead bool

	busy     bool
	id       uint64
	cur      waiter
	deadline time.Time

	wbuf []byte // frames not yet written: requests and releases
	woff int
	rbuf []byte // response bytes read, rbuf[:rn]
	rn   int

	inflight int // pool buffers handed to the loop, not yet released
	resp     cgiproto.Response
}

// flush writes pending frames until the pipe is full.
func (pr *lproc) flush() error {
	for pr.woff < len(pr.wbuf) {
		n, err := unix.Write(pr.wfd, pr.wbuf[pr.woff:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return nil // the edge-triggered EPOLLOUT resumes
		case err != nil:
			return os.NewSyscallError("write", err)
		}
		pr.woff += n
	}
	pr.wbuf, pr.woff = pr.wbuf[:0], 0
	return nil
}

// writable handles the request pipe's events.
func (pr *lproc) writable(ev uint32) {
	if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 && pipeBroken(pr.wfd) {
		pr.die(502)
		return
	}
	if err := pr.flush(); err != nil {
		pr.die(502)
	}
}

// readable reads response frames and answers them.
func (pr *lproc) readable(uint32) {
	for !pr.dead {
		if pr.rn == len(pr.rbuf) {
			pr.grow(2 * len(pr.rbuf))
		}
		n, err := unix.Read(pr.rfd, pr.rbuf[pr.rn:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != nil || n == 0:
			pr.die(502) // the process closed its output: it died
			return
		}
		pr.rn += n
		short := pr.rn < len(pr.rbuf)
		if !pr.frames() {
			return
		}
		if short { // the pipe is empty: the level-triggered epoll says when it is not
			return
		}
	}
}

// frames answers the whole frames in rbuf. It reports false when the
// process was killed for a protocol violation.
func (pr *lproc) frames() bool {
	for {
		kind, payload, k, err := cgiproto.Next(pr.rbuf[:pr.rn])
		if err == cgiproto.ErrShort {
			if need := frameLen(pr.rbuf[:pr.rn]); need > len(pr.rbuf) {
				pr.grow(need)
			}
			return true
		}
		if err != nil || kind != cgiproto.KindResponse || !pr.busy ||
			cgiproto.DecodeResponse(payload, &pr.resp) != nil || pr.resp.ID != pr.id {
			pr.die(502)
			return false
		}
		detach := len(pr.resp.Segments) == 0 && len(pr.resp.Body) > 0
		pr.answer()
		if detach { // the plan keeps the body: continue in a new buffer
			nb := make([]byte, len(pr.rbuf))
			pr.rn = copy(nb, pr.rbuf[k:pr.rn])
			pr.rbuf = nb
		} else {
			pr.rn = copy(pr.rbuf, pr.rbuf[k:pr.rn])
		}
		if pr.dead {
			return false
		}
	}
}

func frameLen(b []byte) int {
	if len(b) < cgiproto.HeaderSize {
		return 0
	}
	return cgiproto.HeaderSize + int(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24)
}

func (pr *lproc) grow(n int) {
	nb := make([]byte, n)
	copy(nb, pr.rbuf[:pr.rn])
	pr.rbuf = nb
}

// answer plans the response in pr.resp for the current request, makes pr
// idle (or gives it the next waiting request) and completes the request.
func (pr *lproc) answer() {
	m, w, r := pr.m, pr.cur, &pr.resp
	core := m.l.Core()
	pr.busy, pr.cur = false, waiter{}
	m.busy--
	head := w.req.Method == httpcore.MethodHEAD
	switch {
	case len(r.Segments) == 0:
		core.PlanDynamic(w.req, r.Status, r.ContentType, int64(len(r.Body)), w.p)
		m.opts.Stats.UserCopyBytes.Add(uint64(len(r.Body)))
		if !head && len(r.Body) > 0 {
			w.p.Kind, w.p.Bytes = httpcore.BodyBytes, r.Body
		}
	case !pr.validSegment(r.Segments):
		pr.release(r.Segments)
		core.RespondError(502, w.req, w.p)
	default:
		s := r.Segments[0]
		core.PlanDynamic(w.req, r.Status, r.ContentType, int64(s.Length), w.p)
		m.shared.Add(1)
		if head || s.Length == 0 {
			pr.release(r.Segments)
			break
		}
		// The body goes out with the header in one writev straight from
		// the shared pages. The File only carries the release hook: the
		// loop releases the plan once the writev of its last byte has
		// returned (or the connection closed), and a writev has copied
		// the bytes into the socket by then.
		pr.inflight++
		end := s.Offset + s.Length
		w.p.Kind, w.p.Bytes = httpcore.BodyBytes, pr.mem[s.Offset:end:end]
		w.p.File = httpcore.NewBufferFile(pr.memfd, int64(pr.poolSize), func() { pr.sent(s) })
	}
	pr.pool.idle = append(pr.pool.idle, pr)
	m.pump(pr.pool)
	m.l.Complete(w.c)
}

// validSegment reports whether segs is one page-aligned range of pr's
// pool (the runtime writes each body contiguously).
func (pr *lproc) validSegment(segs []cgiproto.Segment) bool {
	if len(segs) != 1 || pr.memfd < 0 {
		return false
	}
	s := segs[0]
	return s.Offset%uint64(os.Getpagesize()) == 0 && s.Offset+s.Length >= s.Offset && s.Offset+s.Length <= uint64(pr.poolSize)
}

// sent runs when the loop released the plan of a pool buffer: the writev
// that sent its last byte has returned, so the kernel no longer
// references the buffer, and the process may write it again.
func (pr *lproc) sent(s cgiproto.Segment) {
	pr.inflight--
	pr.release([]cgiproto.Segment{s})
}

// release tells the process that segs are free. An idle process learns
// it with its next request, in the same write: a frame of its own would
// wake it for nothing (it allocates only while serving a request). A
// busy one may be waiting for the pages, so it gets the frame now. It
// may run inside the loop's send path, so a failure is handled later,
// from a timer, not here.
func (pr *lproc) release(segs []cgiproto.Segment) {
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
	if !pr.busy {
		return
	}
	if err := pr.flush(); err != nil {
		pr.m.l.After(0, func() { pr.die(502) })
	}
}

// die kills the process and answers its request with status (0: it had
// none to answer). Its waiting requests go to a new process.
func (pr *lproc) die(status int) {
	if pr.dead {
		return
	}
	m, lp := pr.m, pr.pool
	pr.discard()
	if pr.busy {
		w := pr.cur
		pr.busy, pr.cur = false, waiter{}
		m.busy--
		if status == 0 {
			status = 502
		}
		m.finish(w, status)
	}
	m.pump(lp)
}

func remove(ps []*lproc, pr *lproc) []*lproc {
	for i, p := range ps {
		if p == pr {
			copy(ps[i:], ps[i+1:])
			ps[len(ps)-1] = nil
			return ps[:len(ps)-1]
		}
	}
	return ps
}

// discard kills the process and forgets it, answering nothing.
func (pr *lproc) discard() {
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
	lp.all = remove(lp.all, pr)
	lp.idle = remove(lp.idle, pr)
}

// unstart takes back a request start could not deliver.
func (pr *lproc) unstart() {
	pr.busy, pr.cur = false, waiter{}
	pr.m.busy--
}

// pipeBroken reports whether the reading end of the pipe fd is closed,
// asking the kernel again: an event may be stale, from an earlier
// descriptor with the same number in the same round of events.
func pipeBroken(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(fds, 0)
	return err != nil || n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0
}
