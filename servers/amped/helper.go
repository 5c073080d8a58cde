package amped

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"flashbench/servers/httpcore"

	"golang.org/x/sys/unix"
)

// HelperMain is the body of a helper process: it serves the jobs it reads
// from in, one at a time, and writes one reply per job to out, until in
// ends (the main process closed the pipe or exited). A resolve job
// translates the path with its own httpcore.Core, whose caches are off, so
// the kernel's directory entry and inode caches hold what the main
// process's translation will read, then reads the start of the file into
// the page cache; a page-in job reads a byte range of a file into the page
// cache. Both block on disk here, never in the main process.
func HelperMain(root string, in io.Reader, out io.Writer) error {
	core, err := httpcore.New(httpcore.Config{Root: root, NoPathCache: true, NoHeaderCache: true, NoMmapCache: true})
	if err != nil {
		return fmt.Errorf("amped helper: %w", err)
	}
	defer core.Close()
	r, err := os.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("amped helper: open root: %w", err)
	}
	defer r.Close()
	br := bufio.NewReader(in)
	buf := make([]byte, 0, RequestHeaderSize+256)
	scratch := make([]byte, scratchSize)
	var reply []byte
	for {
		req, err := readRequest(br, &buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("amped helper: %w", err)
		}
		var errno syscall.Errno
		switch req.Kind {
		case KindResolve:
			errno = resolve(core, req, scratch)
		case KindPageIn:
			errno = pageIn(r, req.Path, req.Offset, req.Length, scratch)
		}
		reply = AppendReply(reply[:0], Reply{ID: req.ID, Errno: errno})
		if _, err := out.Write(reply); err != nil {
			return fmt.Errorf("amped helper: write reply: %w", err)
		}
	}
}

// scratchSize is the helper's read buffer. The bytes read into it are
// thrown away (the point is the page cache), so it only needs to be large
// enough to make few system calls, and small enough to cost little memory
// in every helper.
const scratchSize = 64 << 10

// readRequest reads one whole request. io.EOF means the stream ended
// cleanly between requests; a stream cut inside one is ErrShort.
func readRequest(br *bufio.Reader, buf *[]byte) (Request, error) {
	b := (*buf)[:RequestHeaderSize]
	if n, err := io.ReadFull(br, b); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return Request{}, io.EOF
		}
		return Request{}, fmt.Errorf("read request: %w", ErrShort)
	}
	_, _, err := DecodeRequest(b)
	if !errors.Is(err, ErrShort) {
		return Request{}, fmt.Errorf("read request: %w", err)
	}
	n := int(b[RequestHeaderSize-2]) | int(b[RequestHeaderSize-1])<<8
	b = append(b, make([]byte, n)...)
	if _, err := io.ReadFull(br, b[RequestHeaderSize:]); err != nil {
		return Request{}, fmt.Errorf("read request: %w", ErrShort)
	}
	*buf = b[:0]
	req, _, err := DecodeRequest(b)
	if err != nil {
		return Request{}, fmt.Errorf("read request: %w", err)
	}
	return req, nil
}

// resolve translates req.Path as the main process will, then reads the
// requested range of the file it found, and reports the outcome as an
// errno (for logs; the main process redoes the translation from memory and
// answers from its own result).
func resolve(core *httpcore.Core, req Request, scratch []byte) syscall.Errno {
	f, e := core.Resolve([]byte(req.Path))
	if e != nil {
		switch e.Status {
		case 404:
			return syscall.ENOENT
		case 403:
			return syscall.EACCES
		case 400:
			return syscall.EINVAL
		}
		return syscall.EIO
	}
	defer f.Release()
	return readRange(f.Fd(), f.Size(), req.Offset, req.Length, scratch)
}

// pageIn brings length bytes of name from offset into the page cache.
func pageIn(r *os.Root, name string, offset, length int64, scratch []byte) syscall.Errno {
	// O_NONBLOCK: a FIFO swapped in for the file must not hang the helper.
	f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return errnoOf(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return errnoOf(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0
	}
	return readRange(fd, st.Size, offset, length, scratch)
}

// readRange reads [offset, offset+length) of the regular file fd of size
// bytes, clamped to the file, into the page cache. A range already all in
// memory (a translation revalidated while its file is hot, a page-in that
// another helper's read just satisfied) costs one cachestat and no copy.
// Otherwise WILLNEED starts the reads of the whole range at once (the
// device gets them together), then pread through scratch waits until every
// page has arrived. Reading with pread costs one system call per scratch
// buffer, where mapping the range and touching it would cost a mapping, a
// page fault per few pages and an unmapping, for pages the main process
// maps anyway.
func readRange(fd int, size, offset, length int64, scratch []byte) syscall.Errno {
	if offset >= size || length <= 0 {
		return 0
	}
	length = min(length, size-offset)
	if resident(fd, offset, length) {
		return 0
	}
	_ = unix.Fadvise(fd, offset, length, unix.FADV_WILLNEED) // advice only
	for end := offset + length; offset < end; {
		n, err := unix.Pread(fd, scratch[:min(int64(len(scratch)), end-offset)], offset)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return errnoOf(err)
		}
		if n == 0 {
			return 0 // truncated under us: nothing more to read
		}
		offset += int64(n)
	}
	return 0
}

// resident reports whether every page of [offset, offset+length) of fd is
// in the page cache, by cachestat(2); false when it cannot tell (a kernel
// before 6.5), and the range is then read, which is always safe.
func resident(fd int, offset, length int64) bool {
	r := unix.CachestatRange{Off: uint64(offset), Len: uint64(length)}
	var st unix.Cachestat_t
	if unix.Cachestat(uint(fd), &r, &st, 0) != nil {
		return false
	}
	page := int64(os.Getpagesize())
	return int64(st.Cache) >= (offset+length+page-1)/page-offset/page
}

// errnoOf returns the errno inside err, or EIO.
func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}
