package app

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Bounds of one batch of responses: beyond them it is written at once,
// whatever is still to answer (a writev takes at most 1024 buffers, and
// the server's response pipe holds 1 MiB).
const (
	batchParts = 512
	batchBytes = 1 << 20
)

// batch collects the frames of the responses to the requests that
// arrived together, to write them with one writev when the program has
// answered all of them: a server that sends several requests at once then
// wakes up once for all the answers. Frame heads and inline bodies live
// in an arena valid until the batch is written; cached bodies are
// referenced where they lie, never copied into the batch.
type batch struct {
	w     io.Writer
	rc    syscall.RawConn // w's non-blocking descriptor, for writev; nil: w.Write
	parts [][]byte
	iov   []unix.Iovec
	size  int

	chunks [][]byte // the arena
	ci     int      // chunk in use
	used   int      // bytes of chunks[ci] handed out
}

// arenaChunk is the smallest arena chunk.
const arenaChunk = 256 << 10

func newBatch(w io.Writer) *batch {
	return &batch{w: w, rc: rawConn(w)}
}

// alloc returns n bytes of the arena, valid until the next flush.
func (b *batch) alloc(n int) []byte {
	for b.ci < len(b.chunks) && len(b.chunks[b.ci])-b.used < n {
		b.ci++
		b.used = 0
	}
	if b.ci == len(b.chunks) {
		b.chunks = append(b.chunks, make([]byte, max(n, arenaChunk)))
	}
	p := b.chunks[b.ci][b.used : b.used+n : b.used+n]
	b.used += n
	return p
}

// add queues p, which must stay unchanged until the next flush.
func (b *batch) add(p []byte) {
	if len(p) > 0 {
		b.parts = append(b.parts, p)
		b.size += len(p)
	}
}

// full reports whether the batch should be written before it grows.
func (b *batch) full() bool { return len(b.parts) >= batchParts || b.size >= batchBytes }

// flush writes the batch and empties it.
func (b *batch) flush() error {
	var err error
	if b.rc != nil {
		err = b.writev()
	} else {
		for _, p := range b.parts {
			if _, err = b.w.Write(p); err != nil {
				break
			}
		}
	}
	clear(b.parts)
	b.parts, b.size = b.parts[:0], 0
	b.ci, b.used = 0, 0
	if err != nil {
		return fmt.Errorf("app: write responses: %w", err)
	}
	return nil
}

// writev writes every part to the descriptor, resuming short writes
// and waiting in the runtime's poller while a non-blocking pipe is full.
// The system call is a raw one: on a non-blocking descriptor it never
// waits, and the ordinary wrapper would wake the runtime's monitor
// thread, a context switch on a program pinned to one core.
func (b *batch) writev() error {
	parts := b.parts
	var werr error
	for len(parts) > 0 && werr == nil {
		b.iov = b.iov[:0]
		for _, p := range parts[:min(len(parts), batchParts)] {
			v := unix.Iovec{Base: &p[0]}
			v.SetLen(len(p))
			b.iov = append(b.iov, v)
		}
		err := b.rc.Write(func(fd uintptr) bool {
			r, _, e := unix.RawSyscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&b.iov[0])), uintptr(len(b.iov)))
			switch e {
			case 0:
			case unix.EAGAIN:
				return false
			case unix.EINTR:
				return true
			default:
				werr = os.NewSyscallError("writev", e)
				return true
			}
			for n := int(r); n > 0; {
				if n < len(parts[0]) {
					parts[0] = parts[0][n:]
					break
				}
				n -= len(parts[0])
				parts = parts[1:]
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	clear(b.iov)
	return werr
}

// rawReader reads a non-blocking descriptor with raw system calls,
// waiting in the runtime's poller when it is empty (see batch.writev).
type rawReader struct{ rc syscall.RawConn }

func (r rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var rerr error
	err := r.rc.Read(func(fd uintptr) bool {
		r, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch e {
		case 0:
			n = int(r)
			if n == 0 {
				rerr = io.EOF
			}
		case unix.EAGAIN:
			return false
		case unix.EINTR:
			return true // n == 0: the caller reads again
		default:
			rerr = os.NewSyscallError("read", e)
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}

// reader returns r, or a rawReader for a non-blocking *os.File (a raw
// read of a blocking one would hold the runtime's P while it waits).
func reader(r io.Reader) io.Reader {
	if rc := rawConn(r); rc != nil {
		return rawReader{rc}
	}
	return r
}

// rawConn returns the RawConn of a non-blocking *os.File, or nil. It
// never calls Fd, which would switch the file back to blocking mode.
func rawConn(x any) syscall.RawConn {
	f, ok := x.(*os.File)
	if !ok {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	nonblock := false
	rc.Control(func(fd uintptr) {
		fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		nonblock = err == nil && fl&unix.O_NONBLOCK != 0
	})
	if !nonblock {
		return nil
	}
	return rc
}
