package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// FUSE protocol numbers (include/uapi/linux/fuse.h), for the read-only
// subset slowdisk speaks; every other request is answered ENOSYS.
const (
	opLookup      = 1
	opForget      = 2
	opGetattr     = 3
	opOpen        = 14
	opRead        = 15
	opStatfs      = 17
	opRelease     = 18
	opFlush       = 25
	opInit        = 26
	opOpendir     = 27
	opReaddir     = 28
	opReleasedir  = 29
	opInterrupt   = 36
	opDestroy     = 38
	opBatchForget = 42

	inHeaderSize  = 40
	outHeaderSize = 16
	attrSize      = 88

	initAsyncRead      = 1 << 0
	initParallelDirops = 1 << 18
	fopenKeepCache     = 1 << 1

	protoMinor = 31
	// maxRead is the largest READ the kernel sends (its default 32 pages).
	maxRead = 128 << 10
	// bufSize holds any request: the kernel refuses reads into a buffer
	// smaller than a whole write request could be.
	bufSize = 1<<20 + 4096
	// Timeouts of the kernel's cached names and attributes: the set never
	// changes while mounted, so they are cached as on a local file system.
	cacheSeconds = 3600
)

// fs serves one FUSE connection: a read-only view of the backing
// directory whose file reads go through the device model.
type fs struct {
	fd      int
	backing string
	dev     *Device

	mu      sync.Mutex
	paths   map[uint64]string // node id -> path under backing ("" is the root)
	ids     map[string]uint64
	nextID  uint64
	files   map[uint64]*os.File // open handles
	nextFh  uint64
	bufPool sync.Pool
}

func newFS(fd int, backing string, dev *Device) *fs {
	f := &fs{fd: fd, backing: backing, dev: dev,
		paths: map[uint64]string{1: ""}, ids: map[string]uint64{"": 1}, nextID: 2,
		files: map[uint64]*os.File{}, nextFh: 1}
	f.bufPool.New = func() any { b := make([]byte, maxRead); return &b }
	return f
}

// serve reads requests until the connection ends (unmounted: ENODEV).
// Reads are answered from their own goroutines, so that the device can
// hold many at once; everything else is answered in line.
func (f *fs) serve() error {
	buf := make([]byte, bufSize)
	for {
		n, err := unix.Read(f.fd, buf)
		switch {
		case err == unix.EINTR || err == unix.ENOENT: // ENOENT: a request interrupted before we read it
			continue
		case err == unix.ENODEV:
			return nil
		case err != nil:
			return fmt.Errorf("read /dev/fuse: %w", err)
		case n < inHeaderSize:
			return fmt.Errorf("read /dev/fuse: short request of %d bytes", n)
		}
		op := binary.LittleEndian.Uint32(buf[4:])
		unique := binary.LittleEndian.Uint64(buf[8:])
		node := binary.LittleEndian.Uint64(buf[16:])
		body := buf[inHeaderSize:n]
		if op == opRead {
			in := append([]byte(nil), body...)
			go f.read(unique, in)
			continue
		}
		if op == opDestroy {
			f.reply(unique, 0, nil)
			return nil
		}
		f.handle(op, unique, node, body)
	}
}

// handle answers every request but READ and DESTROY.
func (f *fs) handle(op uint32, unique, node uint64, body []byte) {
	switch op {
	case opInit:
		f.reply(unique, 0, initReply(body))
	case opLookup:
		name, _, _ := strings.Cut(string(body), "\x00")
		f.replyOrErrno(unique, f.lookup(node, name))
	case opGetattr:
		f.replyOrErrno(unique, f.getattr(node))
	case opOpen, opOpendir:
		f.replyOrErrno(unique, f.open(op, node))
	case opRelease:
		f.release(body)
		f.reply(unique, 0, nil)
	case opReleasedir, opFlush:
		f.reply(unique, 0, nil)
	case opReaddir:
		f.replyOrErrno(unique, f.readdir(node, body))
	case opStatfs:
		out := make([]byte, 80)
		binary.LittleEndian.PutUint32(out[40:], 4096) // bsize
		binary.LittleEndian.PutUint32(out[44:], 255)  // namelen
		binary.LittleEndian.PutUint32(out[48:], 4096) // frsize
		f.reply(unique, 0, out)
	case opForget, opBatchForget, opInterrupt:
		// No reply. Nodes are kept: the set is small and fixed.
	default:
		f.reply(unique, -int32(unix.ENOSYS), nil)
	}
}

// initReply negotiates the protocol: asynchronous, parallel reads (the
// point of the device model), and enough background requests that
// readahead is not held back before the device's channels are.
func initReply(body []byte) []byte {
	var kflags, kreadahead uint32
	if len(body) >= 16 {
		kreadahead = binary.LittleEndian.Uint32(body[8:])
		kflags = binary.LittleEndian.Uint32(body[12:])
	}
	out := make([]byte, 64)
	binary.LittleEndian.PutUint32(out[0:], 7)
	binary.LittleEndian.PutUint32(out[4:], protoMinor)
	binary.LittleEndian.PutUint32(out[8:], min(kreadahead, maxRead))
	binary.LittleEndian.PutUint32(out[12:], kflags&(initAsyncRead|initParallelDirops))
	binary.LittleEndian.PutUint16(out[16:], 256)  // max_background
	binary.LittleEndian.PutUint16(out[18:], 192)  // congestion_threshold
	binary.LittleEndian.PutUint32(out[20:], 4096) // max_write: the mount is read-only
	binary.LittleEndian.PutUint32(out[24:], 1)    // time_gran: nanoseconds
	return out
}

type result struct {
	out   []byte
	errno unix.Errno
}

func (f *fs) replyOrErrno(unique uint64, r result) {
	if r.errno != 0 {
		f.reply(unique, -int32(r.errno), nil)
		return
	}
	f.reply(unique, 0, r.out)
}

// reply writes one answer: the header, then data.
func (f *fs) reply(unique uint64, errno int32, data []byte) {
	var hdr [outHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[0:], uint32(outHeaderSize+len(data)))
	binary.LittleEndian.PutUint32(hdr[4:], uint32(errno))
	binary.LittleEndian.PutUint64(hdr[8:], unique)
	iov := [][]byte{hdr[:]}
	if len(data) > 0 {
		iov = append(iov, data)
	}
	// ENOENT: the request was interrupted and is gone; nothing to do.
	unix.Writev(f.fd, iov)
}

func (f *fs) path(node uint64) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.paths[node]
	return p, ok
}

func (f *fs) lookup(parent uint64, name string) result {
	dir, ok := f.path(parent)
	if !ok || name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return result{errno: unix.ENOENT}
	}
	rel := filepath.Join(dir, name)
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(f.backing, rel), &st); err != nil {
		return result{errno: errnoOf(err)}
	}
	f.mu.Lock()
	id, ok := f.ids[rel]
	if !ok {
		id = f.nextID
		f.nextID++
		f.ids[rel], f.paths[id] = id, rel
	}
	f.mu.Unlock()
	out := make([]byte, 40+attrSize)
	binary.LittleEndian.PutUint64(out[0:], id)
	binary.LittleEndian.PutUint64(out[16:], cacheSeconds) // entry_valid
	binary.LittleEndian.PutUint64(out[24:], cacheSeconds) // attr_valid
	putAttr(out[40:], id, &st)
	return result{out: out}
}

func (f *fs) getattr(node uint64) result {
	rel, ok := f.path(node)
	if !ok {
		return result{errno: unix.ENOENT}
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(f.backing, rel), &st); err != nil {
		return result{errno: errnoOf(err)}
	}
	out := make([]byte, 16+attrSize)
	binary.LittleEndian.PutUint64(out[0:], cacheSeconds)
	putAttr(out[16:], node, &st)
	return result{out: out}
}

// putAttr encodes struct fuse_attr.
func putAttr(b []byte, id uint64, st *unix.Stat_t) {
	le := binary.LittleEndian
	le.PutUint64(b[0:], id)
	le.PutUint64(b[8:], uint64(st.Size))
	le.PutUint64(b[16:], uint64(st.Blocks))
	le.PutUint64(b[24:], uint64(st.Atim.Sec))
	le.PutUint64(b[32:], uint64(st.Mtim.Sec))
	le.PutUint64(b[40:], uint64(st.Ctim.Sec))
	le.PutUint32(b[48:], uint32(st.Atim.Nsec))
	le.PutUint32(b[52:], uint32(st.Mtim.Nsec))
	le.PutUint32(b[56:], uint32(st.Ctim.Nsec))
	le.PutUint32(b[60:], st.Mode)
	le.PutUint32(b[64:], uint32(st.Nlink))
	le.PutUint32(b[68:], st.Uid)
	le.PutUint32(b[72:], st.Gid)
	le.PutUint32(b[76:], uint32(st.Rdev))
	le.PutUint32(b[80:], 4096)
}

// open opens a file for reading (its pages are kept in the kernel's cache
// across opens, as a local file system's are) or accepts a directory.
func (f *fs) open(op uint32, node uint64) result {
	rel, ok := f.path(node)
	if !ok {
		return result{errno: unix.ENOENT}
	}
	out := make([]byte, 16)
	if op == opOpendir {
		return result{out: out}
	}
	file, err := os.Open(filepath.Join(f.backing, rel))
	if err != nil {
		return result{errno: errnoOf(err)}
	}
	f.mu.Lock()
	fh := f.nextFh
	f.nextFh++
	f.files[fh] = file
	f.mu.Unlock()
	binary.LittleEndian.PutUint64(out[0:], fh)
	binary.LittleEndian.PutUint32(out[8:], fopenKeepCache)
	return result{out: out}
}

func (f *fs) release(body []byte) {
	if len(body) < 8 {
		return
	}
	fh := binary.LittleEndian.Uint64(body)
	f.mu.Lock()
	file := f.files[fh]
	delete(f.files, fh)
	f.mu.Unlock()
	if file != nil {
		file.Close()
	}
}

// read answers a READ after the device has served it.
func (f *fs) read(unique uint64, in []byte) {
	if len(in) < 24 {
		f.reply(unique, -int32(unix.EINVAL), nil)
		return
	}
	fh := binary.LittleEndian.Uint64(in[0:])
	off := int64(binary.LittleEndian.Uint64(in[8:]))
	size := int(min(binary.LittleEndian.Uint32(in[16:]), maxRead))
	f.mu.Lock()
	file := f.files[fh]
	f.mu.Unlock()
	if file == nil {
		f.reply(unique, -int32(unix.EBADF), nil)
		return
	}
	bp := f.bufPool.Get().(*[]byte)
	defer f.bufPool.Put(bp)
	var n int
	var err error
	f.dev.Read(size, func() { n, err = file.ReadAt((*bp)[:size], off) })
	if err != nil && n == 0 && !errors.Is(err, io.EOF) {
		f.reply(unique, -int32(errnoOf(err)), nil)
		return
	}
	f.reply(unique, 0, (*bp)[:n])
}

// readdir lists a directory from the entry at the request's offset on,
// as many as fit in its size.
func (f *fs) readdir(node uint64, in []byte) result {
	rel, ok := f.path(node)
	if !ok || len(in) < 24 {
		return result{errno: unix.ENOENT}
	}
	off := int(binary.LittleEndian.Uint64(in[8:]))
	size := int(binary.LittleEndian.Uint32(in[16:]))
	ents, err := os.ReadDir(filepath.Join(f.backing, rel))
	if err != nil {
		return result{errno: errnoOf(err)}
	}
	var out []byte
	for i := off; i < len(ents); i++ {
		name := ents[i].Name()
		rec := (24 + len(name) + 7) &^ 7
		if len(out)+rec > size {
			break
		}
		b := make([]byte, rec)
		binary.LittleEndian.PutUint64(b[0:], uint64(i+2)) // any non-zero inode number
		binary.LittleEndian.PutUint64(b[8:], uint64(i+1)) // offset of the next entry
		binary.LittleEndian.PutUint32(b[16:], uint32(len(name)))
		binary.LittleEndian.PutUint32(b[20:], direntType(ents[i]))
		copy(b[24:], name)
		out = append(out, b...)
	}
	return result{out: out}
}

func direntType(e os.DirEntry) uint32 {
	switch {
	case e.IsDir():
		return unix.DT_DIR
	case e.Type().IsRegular():
		return unix.DT_REG
	}
	return unix.DT_UNKNOWN
}

// errnoOf returns the errno inside err, or EIO.
func errnoOf(err error) unix.Errno {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return unix.EIO
}
