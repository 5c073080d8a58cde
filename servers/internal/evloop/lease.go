package evloop

import (
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// A sendfile'd body stays a reference to the file's page-cache pages
// until the client has it: in the server's send queue until it is
// acknowledged, and over loopback in the client's receive queue until the
// client reads it (loopback hands the sender's buffers to the receiver).
// Truncating the file zeroes the part of the folio past the new end in
// place, so a client would read zeros under the Content-Length of the old
// file. IO-Lite kept buffers immutable while referenced; here the kernel
// enforces it with read leases (httpcore.Config.Lease): a truncater or
// writer waits until the lease is given up, and the holder gets SIGIO.
//
// On SIGIO the loop takes the files whose lease is breaking from the core
// (stale from then on: no new response sends from them) and stops the
// responses still sending from them: such a connection is parked, neither
// read nor written, and closes once its client has read what it was sent
// (a short response, then the connection closes). Then the loop waits
// until every byte written before the break on any connection of the
// listener is acknowledged (a remote client has its own copy then) and,
// for a client socket of this network namespace (found with sock_diag),
// read: waiting on every connection, not only those that were sending the
// file, covers responses sent whole but not yet read. Only then does it
// release the files; the last release closes them, which gives the lease
// up and lets the writer go on. Files retired from the core's caches are
// drained the same way before they close.
//
// A mapped body (sped, amped) needs no drain: writev copied every byte it
// sent, but a writev after the truncation would copy zeros for the rest
// of the page holding the new end. Each queued Plan holds its file's
// reference, so the loop closes the connections still sending from a
// broken file and releases the files at once; the last release gives
// the lease up.
//
// The loop stops waiting for a connection whose client has made no
// progress for the write timeout (which the loop already allows a client
// that does not read), and for all of them just before lease-break-time,
// after which the kernel lets the writer go anyway. A connection given up
// on whose send queue still holds data is aborted with a reset, which
// frees it. A local client that has left bytes unread that long, or one in
// another network namespace with acknowledged bytes unread, may then read
// zeros among them. The writer may be the client itself, waiting for its
// truncate before it reads on: without the bound it would wait
// lease-break-time, and then every byte still queued would turn to zeros.

// Lease watch timing: how often a drain looks at the sockets, how often
// retired files are collected, the default lease-break-time, and the
// margin by which a drain ends before the kernel's lease-break-time.
const (
	leasePollInterval  = 10 * time.Millisecond
	leaseRetireEvery   = 250 * time.Millisecond
	defaultLeaseBreak  = 45 * time.Second
	leaseBreakMargin   = time.Second
	leaseBreakTimePath = "/proc/sys/fs/lease-break-time"
)

// leaseWatch is a Loop's side of its core's read leases.
type leaseWatch struct {
	l       *Loop
	sigs    chan os.Signal
	done    chan struct{}
	efd     int
	buf     [8]byte
	family  uint8 // the listener's address family; 0 when not TCP
	port    uint16
	grace   int64 // how long a drain waits for clients that make no progress (ns)
	limit   int64 // how long a drain waits at most (ns)
	diag    *sockDiag
	drains  []*leaseDrain
	polling bool
	closed  bool
	scratch []*httpcore.File
}

// newLeaseWatch registers the loop for SIGIO, the lease break signal.
func newLeaseWatch(l *Loop) (*leaseWatch, error) {
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	limit := max(leaseBreakTime()-leaseBreakMargin, 0)
	w := &leaseWatch{l: l, efd: efd, sigs: make(chan os.Signal, 1), done: make(chan struct{}),
		grace: int64(min(l.opts.WriteTimeout, limit)), limit: int64(limit)}
	if err := l.AddFd(efd, unix.EPOLLIN, w.wake); err != nil {
		unix.Close(efd)
		return nil, err
	}
	switch sa, _ := unix.Getsockname(l.lfd); sa := sa.(type) {
	case *unix.SockaddrInet4:
		w.family, w.port = unix.AF_INET, uint16(sa.Port)
	case *unix.SockaddrInet6:
		w.family, w.port = unix.AF_INET6, uint16(sa.Port)
	}
	// Registered before any file is opened: a break signalled while
	// nobody listens is lost, and its writer waits lease-break-time.
	signal.Notify(w.sigs, syscall.SIGIO)
	go w.forward()
	if l.core.Config().SendFile {
		l.After(leaseRetireEvery, w.tick) // mapped files are never retired
	}
	return w, nil
}

// leaseBreakTime reads the kernel's lease-break-time.
func leaseBreakTime() time.Duration {
	b, err := os.ReadFile(leaseBreakTimePath)
	if err != nil {
		return defaultLeaseBreak
	}
	s, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || s <= 0 {
		return defaultLeaseBreak
	}
	return time.Duration(s) * time.Second
}

// forward turns signals into eventfd wake-ups of the loop.
func (w *leaseWatch) forward() {
	defer close(w.done)
	one := [8]byte{1}
	for range w.sigs {
		unix.Write(w.efd, one[:])
	}
}

// wake handles SIGIO: any lease of the core may be breaking.
func (w *leaseWatch) wake(uint32) {
	unix.Read(w.efd, w.buf[:])
	files := w.l.core.BrokenLeases(w.scratch[:0])
	if len(files) == 0 {
		return
	}
	if !w.l.core.Config().SendFile {
		w.stopMapped(files)
		return
	}
	l := w.l
	var parked map[uint64]*Conn
	var st unix.Stat_t
	for fd, e := range l.fds {
		c := e.conn
		if c == nil || c.fd != fd || c.closed {
			continue
		}
		if f := c.hc.SendingFile(); f == nil || !f.Stale() {
			continue
		}
		if unix.Fstat(fd, &st) != nil {
			l.abort(c)
			continue
		}
		l.park(c)
		if parked == nil {
			parked = make(map[uint64]*Conn)
		}
		parked[st.Ino] = c
	}
	w.drain(files, parked)
	clear(files)
	w.scratch = files[:0]
}

// stopMapped handles a break of mapped files: writev copied what was
// sent, so a connection still sending from one of them is closed where
// it is (a short response; what its socket holds goes out first), and
// the files are released at once. A response waiting for a helper
// becomes a 503 when it is queued (httpconn.Conn.Queue).
func (w *leaseWatch) stopMapped(files []*httpcore.File) {
	l := w.l
	for fd, e := range l.fds {
		if c := e.conn; c != nil && c.fd == fd && !c.closed && c.hc.SendsStale() {
			l.st.WriteErrors.Add(1)
			l.close(c)
		}
	}
	for _, f := range files {
		f.Release()
	}
	clear(files)
	w.scratch = files[:0]
}

// park stops c's response where it is: nothing more is written (the rest
// of the queued output is dropped) or read, and no timer runs; the lease
// drain closes it.
func (l *Loop) park(c *Conn) {
	c.hc.ReleaseQueued()
	c.parked = true
	l.clearTimer(c)
	l.st.WriteErrors.Add(1)
}

// unpark closes a parked connection: with a reset when abort is set (its
// send queue is freed, not sent), else normally.
func (l *Loop) unpark(c *Conn, abort bool) {
	if c == nil || !c.parked || c.closed {
		return
	}
	c.parked = false
	if abort {
		l.abort(c)
		return
	}
	l.close(c)
}

// abort closes c with a reset: the kernel frees its send queue at once
// instead of sending it, so that it no longer references file pages.
func (l *Loop) abort(c *Conn) {
	if c.closed {
		return
	}
	unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	l.close(c)
}

// tick drains the files the core retired.
func (w *leaseWatch) tick() {
	if w.closed {
		return
	}
	if files := w.l.core.RetiredLeases(w.scratch[:0]); len(files) > 0 {
		w.drain(files, nil)
		clear(files)
		w.scratch = files[:0]
	}
	w.l.After(leaseRetireEvery, w.tick)
}

// close stops the watch and releases every file it holds.
func (w *leaseWatch) close() {
	w.closed = true
	signal.Stop(w.sigs)
	close(w.sigs)
	<-w.done
	unix.Close(w.efd)
	for _, d := range w.drains {
		d.release()
	}
	w.drains = nil
	if w.diag != nil {
		w.diag.close()
	}
}
