package uring

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SQE is one submission, as the kernel lays it out (64 bytes). Obtain it
// from GetSQE, prepare it with one Prep method, then set its user data
// and flags. Memory an SQE points at (buffers, iovecs, a msghdr, a
// timespec) is the caller's: the package moves it to the heap, where it
// never moves, but the caller must keep it reachable, and unchanged where
// the kernel reads it, until the operation completes (a timespec: until
// the Submit that carries it returns).
type SQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64 // off, addr2
	addr        uint64 // addr, splice_off_in
	len         uint32
	opFlags     uint32 // msg_flags, accept_flags, timeout_flags, ...
	userData    uint64
	bufIndex    uint16 // buf_index, buf_group
	personality uint16
	spliceFdIn  int32 // splice_fd_in, file_index
	addr3       uint64
	_           uint64
}

// SQE flags (the IOSQE_ bits).
const (
	sqeIOLink         = 1 << 2
	sqeIOHardlink     = 1 << 3
	sqeAsync          = 1 << 4
	sqeBufferSelect   = 1 << 5
	sqeCQESkipSuccess = 1 << 6
)

// Flags of particular operations.
const (
	acceptMultishot = 1 << 0 // in ioprio
	recvMultishot   = 1 << 1 // in ioprio
	pollAddMulti    = 1 << 0 // in len
	// SendZCReportUsage asks send_zc's notification to say, in Res,
	// whether the kernel copied the data after all (NotifZCCopied).
	SendZCReportUsage = 1 << 3
	// TimeoutAbs makes a timeout's timespec an absolute CLOCK_MONOTONIC
	// time.
	TimeoutAbs = 1 << 0
	// CancelAll cancels every request with the user data, not the first.
	CancelAll = 1 << 0
)

// noOffset is -1 as an offset: a pipe's or socket's current position.
const noOffset = ^uint64(0)

// set fills the fields every operation has.
func (s *SQE) set(op Op, fd int, addr uint64, n uint32, off uint64) *SQE {
	s.opcode, s.fd, s.addr, s.len, s.off = uint8(op), int32(fd), addr, n, off
	return s
}

// SetUserData tags the SQE; its completions carry u back (a loop encodes
// the connection and the kind of operation in it).
func (s *SQE) SetUserData(u uint64) *SQE { s.userData = u; return s }

// UserData returns the SQE's tag.
func (s *SQE) UserData() uint64 { return s.userData }

// Link makes the next SQE start only after this one succeeds (a short
// send or read counts as a failure); a failure cancels the rest of the
// chain with -ECANCELED.
func (s *SQE) Link() *SQE { s.flags |= sqeIOLink; return s }

// HardLink makes the next SQE start after this one completes, whatever
// its result.
func (s *SQE) HardLink() *SQE { s.flags |= sqeIOHardlink; return s }

// SkipSuccess posts no completion when the operation succeeds, only when
// it fails (FeatCQESkip): for a header send whose body send reports both.
func (s *SQE) SkipSuccess() *SQE { s.flags |= sqeCQESkipSuccess; return s }

// Async runs the operation in a kernel worker from the start instead of
// trying it inline first.
func (s *SQE) Async() *SQE { s.flags |= sqeAsync; return s }

// PrepNop prepares an operation that does nothing and completes with 0.
func (s *SQE) PrepNop() *SQE { return s.set(OpNop, -1, 0, 0, 0) }

// PrepAccept prepares an accept on a listening socket; Res is the new
// socket, made with flags (unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC). With
// multishot it stays armed and completes once per connection (CQEFMore
// while armed; Linux 5.19).
func (s *SQE) PrepAccept(fd int, flags int, multishot bool) *SQE {
	s.set(OpAccept, fd, 0, 0, 0)
	s.opFlags = uint32(flags)
	if multishot {
		s.ioprio |= acceptMultishot
	}
	return s
}

// PrepRecv prepares a recv into buf.
func (s *SQE) PrepRecv(fd int, buf []byte, msgFlags int) *SQE {
	s.set(OpRecv, fd, bytesAddr(buf), uint32(len(buf)), 0)
	s.opFlags = uint32(msgFlags)
	return s
}

// PrepRecvSelect prepares a recv into a buffer the kernel takes from the
// buffer ring of group when data arrives (CQE.Buffer names it), so that an
// idle connection holds no buffer. With multishot it stays armed and
// completes once per arrival (Linux 6.0) until an error, the end of the
// stream (Res 0) or an empty buffer ring (-ENOBUFS) ends it.
func (s *SQE) PrepRecvSelect(fd int, group uint16, msgFlags int, multishot bool) *SQE {
	s.set(OpRecv, fd, 0, 0, 0)
	s.opFlags = uint32(msgFlags)
	s.flags |= sqeBufferSelect
	s.bufIndex = group
	if multishot {
		s.ioprio |= recvMultishot
	}
	return s
}

// PrepSend prepares a send of buf with msgFlags (unix.MSG_NOSIGNAL, and
// unix.MSG_MORE on a header that a linked body follows).
func (s *SQE) PrepSend(fd int, buf []byte, msgFlags int) *SQE {
	s.set(OpSend, fd, bytesAddr(buf), uint32(len(buf)), 0)
	s.opFlags = uint32(msgFlags)
	return s
}

// PrepSendmsg prepares a sendmsg: a header and a body in one operation.
// The msghdr, its iovecs and their buffers stay the caller's until the
// completion.
func (s *SQE) PrepSendmsg(fd int, msg *unix.Msghdr, msgFlags int) *SQE {
	s.set(OpSendmsg, fd, addrOf(unsafe.Pointer(msg)), 1, 0)
	s.opFlags = uint32(msgFlags)
	return s
}

// PrepWritev prepares a writev of iov at off (-1 for a socket or pipe).
// The iovecs and their buffers stay the caller's until the completion.
// On a socket, PrepSendmsg can add MSG_NOSIGNAL; writev cannot.
func (s *SQE) PrepWritev(fd int, iov []unix.Iovec, off int64) *SQE {
	return s.set(OpWritev, fd, addrOf(unsafe.Pointer(unsafe.SliceData(iov))), uint32(len(iov)), uint64(off))
}

// PrepSendZC prepares a zero-copy send (Linux 6.0): it completes twice,
// first with the count sent and CQEFMore, then with a notification
// (CQEFNotif) once the kernel no longer references buf; only then may buf
// change. zcFlags may be SendZCReportUsage. Without CQEFMore on the first
// completion (an error) no notification follows.
func (s *SQE) PrepSendZC(fd int, buf []byte, msgFlags int, zcFlags uint16) *SQE {
	s.set(OpSendZC, fd, bytesAddr(buf), uint32(len(buf)), 0)
	s.opFlags = uint32(msgFlags)
	s.ioprio = zcFlags
	return s
}

// PrepSendmsgZC prepares a zero-copy sendmsg (Linux 6.1): PrepSendmsg's
// header and body in one operation, completing twice as PrepSendZC does;
// the msghdr's buffers may change only after the notification.
func (s *SQE) PrepSendmsgZC(fd int, msg *unix.Msghdr, msgFlags int, zcFlags uint16) *SQE {
	s.set(OpSendmsgZC, fd, addrOf(unsafe.Pointer(msg)), 1, 0)
	s.opFlags = uint32(msgFlags)
	s.ioprio = zcFlags
	return s
}

// PrepSplice prepares a splice of n bytes from fdIn at offIn to fdOut at
// offOut; one end must be a pipe, whose offset is -1. A file body goes to
// a socket as two linked splices, file to pipe and pipe to socket.
func (s *SQE) PrepSplice(fdIn int, offIn int64, fdOut int, offOut int64, n uint32, flags uint32) *SQE {
	s.set(OpSplice, fdOut, uint64(offIn), n, uint64(offOut))
	s.spliceFdIn = int32(fdIn)
	s.opFlags = flags
	return s
}

// PrepRead prepares a read of len(buf) bytes of a file at off: for data
// that is not resident, the loop's asynchronous disk read.
func (s *SQE) PrepRead(fd int, buf []byte, off uint64) *SQE {
	return s.set(OpRead, fd, bytesAddr(buf), uint32(len(buf)), off)
}

// PrepStatx prepares a statx(2) of path (NUL-terminated) relative to
// dirfd into stx, with the AT_ flags and STATX_ mask of statx(2). The
// kernel reads path and writes stx after the submit: both stay the
// caller's until the completion.
func (s *SQE) PrepStatx(dirfd int, path []byte, flags int, mask uint32, stx *unix.Statx_t) *SQE {
	s.set(OpStatx, dirfd, bytesAddr(path), mask, addrOf(unsafe.Pointer(stx)))
	s.opFlags = uint32(flags)
	return s
}

// PrepClose prepares a close of fd.
func (s *SQE) PrepClose(fd int) *SQE { return s.set(OpClose, fd, 0, 0, 0) }

// PrepTimeout prepares a timeout that completes with -ETIME after ts, or
// with 0 once count other completions were posted (count 0: never).
// flags may be TimeoutAbs.
func (s *SQE) PrepTimeout(ts *unix.Timespec, count uint32, flags uint32) *SQE {
	s.set(OpTimeout, -1, timespecAddr(ts), 1, uint64(count))
	s.opFlags = flags
	return s
}

// PrepLinkTimeout prepares a timeout for the SQE before it, which must
// carry Link: if that operation has not completed after ts it is
// cancelled (-ECANCELED) and this one completes with -ETIME; otherwise
// this one completes with -ECANCELED.
func (s *SQE) PrepLinkTimeout(ts *unix.Timespec, flags uint32) *SQE {
	s.set(OpLinkTimeout, -1, timespecAddr(ts), 1, 0)
	s.opFlags = flags
	return s
}

// PrepCancel prepares a cancel of the request tagged target: it completes
// with 0 (found and cancelled), -ENOENT (not found) or -EALREADY (running,
// maybe uncancellable); the cancelled request completes with -ECANCELED.
// flags may be CancelAll.
func (s *SQE) PrepCancel(target uint64, flags uint32) *SQE {
	s.set(OpAsyncCancel, -1, target, 0, 0)
	s.opFlags = flags
	return s
}

// PrepPollAdd prepares a poll of fd for events (unix.POLLIN, ...): for a
// pipe or an eventfd that no other operation reads, such as a CGI
// process's. Res is the ready events. With multishot it stays armed
// (CQEFMore while armed).
func (s *SQE) PrepPollAdd(fd int, events uint32, multishot bool) *SQE {
	s.set(OpPollAdd, fd, 0, 0, 0)
	if multishot {
		s.len = pollAddMulti
	}
	// poll32_events is stored with its 16-bit halves swapped on a
	// big-endian machine, so that its low half sits where the old
	// 16-bit poll_events did.
	if bigEndian {
		events = events<<16 | events>>16
	}
	s.opFlags = events
	return s
}

// bigEndian reports the machine's byte order.
var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1
