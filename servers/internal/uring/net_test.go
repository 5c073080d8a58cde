package uring_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
)

func TestSpliceFileToSocket(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 8})
	data := randomBytes(100_000, 2)
	f := tempFile(t, data)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	client, server := tcpPair(t)
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() { b, err := readFull(client, len(data)); done <- result{b, err} }()

	// The body goes in chunks that fit the pipe, each as two linked
	// splices: file to pipe at the chunk's offset, pipe to socket.
	const chunk = 16384
	for off := 0; off < len(data); off += chunk {
		n := uint32(min(chunk, len(data)-off))
		getSQE(t, r).PrepSplice(int(f.Fd()), int64(off), p[1], -1, n, 0).Link().SetUserData(1)
		getSQE(t, r).PrepSplice(p[0], -1, server, -1, n, 0).SetUserData(2)
		got := byUserData(t, reap(t, r, 2))
		if got[1].Res != int32(n) || got[2].Res != int32(n) {
			t.Fatalf("splices at %d: got %+v, %+v; want %d bytes each", off, got[1], got[2], n)
		}
	}
	res := <-done
	if res.err != nil || !bytes.Equal(res.b, data) {
		t.Errorf("received: got %d bytes, %v; want the file's %d bytes", len(res.b), res.err, len(data))
	}
}

func TestSendZC(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 4})
	client, server := tcpPair(t)
	data := randomBytes(256<<10, 3)
	done := make(chan []byte, 1)
	go func() { b, _ := readFull(client, len(data)); done <- b }()
	getSQE(t, r).PrepSendZC(server, data, unix.MSG_NOSIGNAL|unix.MSG_WAITALL, uring.SendZCReportUsage).SetUserData(7)
	cqes := reap(t, r, 2)
	sent, notif := cqes[0], cqes[1]
	if sent.UserData != 7 || sent.Res != int32(len(data)) || !sent.More() || sent.Notif() {
		t.Errorf("send_zc's first completion: got %+v, want user data 7, %d bytes, CQEFMore", sent, len(data))
	}
	if notif.UserData != 7 || !notif.Notif() || notif.More() {
		t.Errorf("send_zc's notification: got %+v, want user data 7, CQEFNotif, no CQEFMore", notif)
	}
	t.Logf("send_zc on loopback: copied after all = %v", uint32(notif.Res)&uring.NotifZCCopied != 0)
	if got := <-done; !bytes.Equal(got, data) {
		t.Errorf("received: got %d bytes, want the %d sent", len(got), len(data))
	}
}

// TestSendmsgZC sends a header and a body in one zero-copy sendmsg: two
// completions, the count of both and the notification, and the bytes of
// both in order at the other end.
func TestSendmsgZC(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 4})
	client, server := tcpPair(t)
	hdr, body := []byte("HTTP/1.1 200 OK\r\n\r\n"), randomBytes(200<<10, 5)
	want := append(append([]byte{}, hdr...), body...)
	done := make(chan []byte, 1)
	go func() { b, _ := readFull(client, len(want)); done <- b }()
	iov := []unix.Iovec{{Base: &hdr[0]}, {Base: &body[0]}}
	iov[0].SetLen(len(hdr))
	iov[1].SetLen(len(body))
	msg := &unix.Msghdr{Iov: &iov[0]}
	msg.SetIovlen(len(iov))
	getSQE(t, r).PrepSendmsgZC(server, msg, unix.MSG_NOSIGNAL|unix.MSG_WAITALL, uring.SendZCReportUsage).SetUserData(9)
	cqes := reap(t, r, 2)
	sent, notif := cqes[0], cqes[1]
	if sent.UserData != 9 || sent.Res != int32(len(want)) || !sent.More() || sent.Notif() {
		t.Errorf("sendmsg_zc's first completion: got %+v, want user data 9, %d bytes, CQEFMore", sent, len(want))
	}
	if notif.UserData != 9 || !notif.Notif() || notif.More() {
		t.Errorf("sendmsg_zc's notification: got %+v, want user data 9, CQEFNotif, no CQEFMore", notif)
	}
	if got := <-done; !bytes.Equal(got, want) {
		t.Errorf("received: got %d bytes, want the %d sent", len(got), len(want))
	}
	runtime.KeepAlive(hdr)
	runtime.KeepAlive(body)
}

// The kinds of operation of the echo server, in the user data's upper
// half; the lower half is the socket.
const (
	opAccept = iota + 1
	opRecv
	opHeader
	opBody
	opClose
	opCancel
)

func tag(kind, fd int) uint64   { return uint64(kind)<<32 | uint64(uint32(fd)) }
func untag(u uint64) (int, int) { return int(u >> 32), int(int32(uint32(u))) }

// echoConn is a connection of the echo server: a multishot recv into
// provided buffers, and the chunks received, sent back in order one at a
// time as a linked header (the chunk's length) and body (the buffer).
type echoConn struct {
	fd      int
	queue   []echoChunk
	sending bool
	armed   bool // a multishot recv is armed
	eof     bool
	closing bool
}

type echoChunk struct {
	bid uint16
	n   int
	hdr []byte
}

// echoServer is the loop of TestEcho: one thread, one ring.
type echoServer struct {
	t     *testing.T
	r     *uring.Ring
	bufs  *uring.BufRing
	conns map[int]*echoConn
	// inflight keeps each header's memory reachable until its body's
	// completion.
	inflight map[int]echoChunk
	enobufs  int
}

// sqe returns an SQE, submitting first when the SQ is full.
func (s *echoServer) sqe() *uring.SQE {
	if sqe := s.r.GetSQE(); sqe != nil {
		return sqe
	}
	if _, err := s.r.Submit(); err != nil {
		s.t.Fatalf("Submit: %v", err)
	}
	return getSQE(s.t, s.r)
}

// TestEcho runs an echo server on the ring against two clients: multishot
// accept, multishot recv into a small buffer ring (so that it runs dry and
// is re-armed), and each chunk sent back as a linked header and body; the
// clients check that every byte arrives, in order, after its header.
func TestEcho(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 16, CQEntries: 64})
	bufs, err := r.NewBufRing(1, 4, 32)
	if err != nil {
		t.Fatal(err)
	}
	lfd, port := listenTCP(t)
	s := &echoServer{t: t, r: r, bufs: bufs, conns: map[int]*echoConn{}, inflight: map[int]echoChunk{}}
	s.sqe().PrepAccept(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, true).SetUserData(tag(opAccept, lfd))

	const clients = 2
	results := make(chan error, clients)
	for c := range clients {
		go func() { results <- echoClient(port, c) }()
	}
	closed, done := 0, 0
	cqes := make([]uring.CQE, 32)
	for done < clients || closed < clients {
		select {
		case err := <-results:
			if err != nil {
				t.Fatal(err)
			}
			done++
		default:
		}
		if _, err := r.SubmitAndWaitTimeout(1, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for _, c := range cqes[:r.PeekBatch(cqes)] {
			closed += s.complete(c)
		}
		s.advance()
	}
	s.sqe().PrepCancel(tag(opAccept, lfd), 0).SetUserData(tag(opCancel, lfd))
	got := byUserData(t, reap(t, r, 2))
	if c := got[tag(opAccept, lfd)]; c.Res != -int32(unix.ECANCELED) || c.More() {
		t.Errorf("cancelled multishot accept: got %+v, want -ECANCELED without CQEFMore", c)
	}
	t.Logf("buffer ring ran dry %d times", s.enobufs)
}

// complete handles one completion and returns 1 when it closed a
// connection.
func (s *echoServer) complete(c uring.CQE) int {
	kind, fd := untag(c.UserData)
	conn := s.conns[fd]
	switch {
	case kind == opAccept && c.Res >= 0 && c.More():
		s.conns[int(c.Res)] = &echoConn{fd: int(c.Res)}
	case kind == opRecv && c.Res > 0:
		bid, ok := c.Buffer()
		if !ok {
			s.t.Fatalf("recv of %d bytes: got flags %#x, want a buffer id", c.Res, c.Flags)
		}
		conn.queue = append(conn.queue, echoChunk{bid: bid, n: int(c.Res)})
		conn.armed = c.More()
	case kind == opRecv && c.Res == 0:
		conn.eof, conn.armed = true, false
	case kind == opRecv && c.Res == -int32(unix.ENOBUFS) && !c.More():
		s.enobufs++
		conn.armed = false
	case kind == opBody && c.Res == int32(s.inflight[fd].n):
		s.bufs.Recycle(s.inflight[fd].bid)
		delete(s.inflight, fd)
		conn.sending = false
	case kind == opClose && c.Res == 0:
		delete(s.conns, fd)
		return 1
	default:
		// A header completes only when it fails (SkipSuccess).
		s.t.Fatalf("completion %+v (kind %d, fd %d): unexpected", c, kind, fd)
	}
	return 0
}

// advance starts what each connection can do next: send its oldest chunk,
// re-arm its recv, or close once the client is done and all is sent.
func (s *echoServer) advance() {
	for _, conn := range s.conns {
		if !conn.sending && len(conn.queue) > 0 {
			ch := conn.queue[0]
			conn.queue = conn.queue[1:]
			ch.hdr = fmt.Appendf(nil, "%04x", ch.n)
			s.inflight[conn.fd] = ch
			s.sqe().PrepSend(conn.fd, ch.hdr, unix.MSG_NOSIGNAL|unix.MSG_MORE).Link().SkipSuccess().SetUserData(tag(opHeader, conn.fd))
			s.sqe().PrepSend(conn.fd, s.bufs.Buf(ch.bid, ch.n), unix.MSG_NOSIGNAL).SetUserData(tag(opBody, conn.fd))
			conn.sending = true
		}
		if !conn.armed && !conn.eof {
			s.sqe().PrepRecvSelect(conn.fd, s.bufs.Group(), 0, true).SetUserData(tag(opRecv, conn.fd))
			conn.armed = true
		}
		if conn.eof && !conn.sending && len(conn.queue) == 0 && !conn.closing {
			s.sqe().PrepClose(conn.fd).SetUserData(tag(opClose, conn.fd))
			conn.closing = true
		}
	}
}

// echoClient sends lines to the echo server, then reads the framed echo
// back and checks that the bodies, joined, are what it sent.
func echoClient(port, id int) error {
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	defer c.Close()
	var sent []byte
	for i := range 100 {
		line := fmt.Appendf(nil, "client %d line %d\n", id, i)
		if _, err := c.Write(line); err != nil {
			return err
		}
		sent = append(sent, line...)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	echo, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	var bodies []byte
	for len(echo) > 0 {
		n, err := strconv.ParseUint(string(echo[:min(4, len(echo))]), 16, 16)
		if err != nil || len(echo) < 4+int(n) {
			return fmt.Errorf("client %d: frame at %d: got header %q, %v; want a length and its body", id, len(bodies), echo[:min(4, len(echo))], err)
		}
		bodies = append(bodies, echo[4:4+n]...)
		echo = echo[4+n:]
	}
	if !bytes.Equal(bodies, sent) {
		return fmt.Errorf("client %d: got echo %q, want %q", id, bodies, sent)
	}
	return nil
}

// TestVectoredSend sends a header and a body in one operation, by sendmsg
// and by writev, as a loop sends a mapped or cached small file.
func TestVectoredSend(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 4})
	header := []byte("HTTP/1.0 200 OK\r\nContent-Length: 500\r\n\r\n")
	body := randomBytes(500, 4)
	iov := make([]unix.Iovec, 2)
	iov[0].Base, iov[1].Base = &header[0], &body[0]
	iov[0].SetLen(len(header))
	iov[1].SetLen(len(body))
	msg := &unix.Msghdr{Iov: &iov[0]}
	msg.SetIovlen(len(iov))
	tests := []struct {
		name string
		prep func(sqe *uring.SQE, fd int)
	}{
		{"sendmsg", func(sqe *uring.SQE, fd int) { sqe.PrepSendmsg(fd, msg, unix.MSG_NOSIGNAL) }},
		{"writev", func(sqe *uring.SQE, fd int) { sqe.PrepWritev(fd, iov, -1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := tcpPair(t)
			tt.prep(getSQE(t, r), server)
			want := append(append([]byte(nil), header...), body...)
			if c := reap(t, r, 1)[0]; c.Res != int32(len(want)) {
				t.Fatalf("%s of %d bytes: got %+v", tt.name, len(want), c)
			}
			got, err := readFull(client, len(want))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: received %q, %v; want the header, then the body", tt.name, got, err)
			}
		})
	}
	runtime.KeepAlive(header)
	runtime.KeepAlive(body)
}
