package uringloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
)

// A file operation is a read or a statx that a Handler hands to the ring
// instead of blocking the loop on the disk: the kernel completes it
// without the loop's thread (from the page cache's own callbacks, or in
// one of the ring's kernel workers where the file system cannot read
// asynchronously), and the loop calls its done function on its own thread.
// Operations live in a table of slots whose index is in their user data,
// as a connection's index is in its operations'.
type fileOp struct {
	done func(res int32)
	path []byte // statx: the NUL-terminated path, the kernel's until the completion
	stx  unix.Statx_t
}

// ReadAt reads len(buf) bytes of fd from off through the ring and calls
// done on the loop thread with the result: the bytes read, or a negative
// errno. buf, and fd, stay the caller's until done is called. Call it on
// the loop thread only.
func (l *Loop) ReadAt(fd int, buf []byte, off int64, done func(res int32)) {
	idx := l.newFileOp(done)
	l.sqe().PrepRead(fd, buf, uint64(off)).SetUserData(tag(idx, kindFile))
}

// Statx looks path up relative to dirfd (statx(2), not following a final
// symbolic link) through the ring and calls done on the loop thread with
// 0 or a negative errno. Its point is what the lookup leaves in the
// kernel's caches: directory entries and inode, so that a translation of
// the path on the loop thread afterwards waits for no disk. Call it on
// the loop thread only.
func (l *Loop) Statx(dirfd int, path string, done func(res int32)) {
	idx := l.newFileOp(done)
	op := l.fileOps[idx]
	op.path = append(append(op.path[:0], path...), 0)
	l.sqe().PrepStatx(dirfd, op.path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &op.stx).
		SetUserData(tag(idx, kindFile))
}

// FileOpsInFlight returns the file operations submitted and not yet
// completed.
func (l *Loop) FileOpsInFlight() int { return len(l.fileOps) - 1 - len(l.fileFree) }

// newFileOp takes a free slot for an operation that will call done.
func (l *Loop) newFileOp(done func(res int32)) uint32 {
	var idx uint32
	if n := len(l.fileFree); n > 0 {
		idx = l.fileFree[n-1]
		l.fileFree = l.fileFree[:n-1]
	} else {
		if len(l.fileOps) == 0 {
			l.fileOps = append(l.fileOps, nil) // index 0 is never used
		}
		idx = uint32(len(l.fileOps))
		l.fileOps = append(l.fileOps, &fileOp{})
	}
	l.fileOps[idx].done = done
	l.ops++
	return idx
}

// fileDone hands a file operation's completion to its done function.
func (l *Loop) fileDone(idx uint32, cqe *uring.CQE) {
	op := l.fileOps[idx]
	done := op.done
	op.done = nil
	l.fileFree = append(l.fileFree, idx)
	l.ops--
	done(cqe.Res)
}
