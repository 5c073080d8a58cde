package httpcore

import (
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/internal/mincore"
)

// fileID is the identity of one version of a file: a rewrite that changes
// the inode, the size or the modification time makes a new identity, so
// cached headers and mappings of the old version are never served for it.
type fileID struct {
	dev, ino uint64
	size     int64
	mtime    int64 // nanoseconds since the epoch
}

// File is a regular file of the document root, open and fstat'ed. It is
// reference counted: the pathname cache holds one reference while the file
// is cached, and every caller of CachedFile or Resolve gets one more. The
// descriptor is closed when the last reference is dropped.
type File struct {
	refs    atomic.Int64
	osf     *os.File
	fd      int
	id      fileID
	modTime time.Time
	name    string   // the name opened beneath the root, for re-stat
	ctype   string   // Content-Type value
	lastMod [29]byte // Last-Modified value, IMF-fixdate
	// checked is when the translation was last validated (Unix nanoseconds).
	checked atomic.Int64
	// onRelease replaces closing osf for a File made by NewBufferFile.
	onRelease func()

	// lease is set by open, before the File is shared (Config.Lease).
	lease leaseState
	// leases is the Core's registry of a leased File, nil otherwise.
	leases *leaseSet
	// stale is set when the lease breaks or the File is retired.
	stale atomic.Bool
	// retired is guarded by leases.mu: unreferenced, open for its lease.
	retired bool
	// cacheKey is the pathname cache key, guarded by the cache's lock.
	cacheKey string
	// resident remembers the last positive ResidentAt of the whole file.
	resident residentMemo
}

// Size returns the file size in bytes at open time.
func (f *File) Size() int64 { return f.id.size }

// Fd returns the open descriptor, for sendfile or pread. It is valid until
// the caller's reference is released.
func (f *File) Fd() int { return f.fd }

// ModTime returns the modification time at open time.
func (f *File) ModTime() time.Time { return f.modTime }

// ContentType returns the Content-Type value chosen by extension.
func (f *File) ContentType() string { return f.ctype }

// Name returns the path of the file beneath the document root.
func (f *File) Name() string { return f.name }

// acquire takes one more reference.
func (f *File) acquire() { f.refs.Add(1) }

// Release drops the caller's reference from CachedFile or Resolve, for a
// caller that does not hand the File to PlanFile (which takes it over).
// The last release closes the descriptor, except that a leased File sent
// with sendfile is retired, still open, until its holder drains it
// (Core.RetiredLeases).
func (f *File) Release() {
	if n := f.refs.Add(-1); n == 0 {
		if f.onRelease != nil {
			f.onRelease()
			return
		}
		if f.leases != nil && f.leases.retire(f) {
			return
		}
		f.close()
	} else if n < 0 {
		panic("httpcore: File released too many times")
	}
}

// close gives f's lease up and closes it. The lease goes explicitly: it
// belongs to the open file, which the mappings of f's chunks keep open
// past the close of the descriptor.
func (f *File) close() {
	if f.lease == leaseHeld {
		unix.FcntlInt(uintptr(f.fd), unix.F_SETLEASE, unix.F_UNLCK)
	}
	f.osf.Close()
}

// Chunk is one mapped region of a File, ChunkSize bytes at a ChunkSize
// aligned offset (the last chunk is shorter). It is reference counted: the
// mapped-file cache holds one reference while the chunk is cached and every
// Plan that sends it holds one; it is unmapped when the last one goes.
type Chunk struct {
	refs   atomic.Int64
	mapped []byte // the whole mapping, page aligned
	n      int    // bytes of the mapping that lie within the file
	key    chunkKey
	// mappedBytes is the Core's count of mapped bytes, lowered on unmap.
	mappedBytes *atomic.Int64

	// links and cached are guarded by the mapped-file cache's lock.
	links[Chunk]
	cached bool
	// resident remembers the last positive ResidentAt.
	resident residentMemo
}

// Bytes returns the mapped bytes of this chunk that lie within the file.
// They are valid until the Plan holding the chunk is released. If the file
// is truncated under the mapping, reading the bytes past the new end raises
// SIGBUS: code in this process must read them through Touch, and a writev of
// such a range fails with EFAULT, which the sender must treat as an I/O
// error on the connection.
func (ch *Chunk) Bytes() []byte { return ch.mapped[:ch.n] }

// Resident reports whether every page of the chunk is in memory (mincore),
// so that sending it cannot block on disk.
func (ch *Chunk) Resident() bool {
	var vec [128]byte
	b := ch.mapped[:ch.n]
	for len(b) > 0 {
		w := min(len(b), len(vec)*pageSize)
		if mincore.Pages(b[:w], vec[:]) != nil {
			return false
		}
		pages := (w + pageSize - 1) / pageSize
		for _, v := range vec[:pages] {
			if v&1 == 0 {
				return false
			}
		}
		b = b[w:]
	}
	return true
}

// ResidentAt is Resident with a memory: a chunk found resident at or after
// now-memo is taken as still resident without a system call (see
// File.ResidentAt).
func (ch *Chunk) ResidentAt(now int64, memo time.Duration) bool {
	if ch.resident.trusted(now) {
		return true
	}
	ok := ch.Resident()
	if ok {
		ch.resident.remember(now, memo)
	}
	return ok
}

// acquire takes one more reference.
func (ch *Chunk) acquire() { ch.refs.Add(1) }

// release drops one reference and unmaps the chunk after the last one.
func (ch *Chunk) release() {
	n := ch.refs.Add(-1)
	if n > 0 {
		return
	}
	if n < 0 {
		panic("httpcore: Chunk released too many times")
	}
	ch.unmap()
}

var pageSize = os.Getpagesize()
