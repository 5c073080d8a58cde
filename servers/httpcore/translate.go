package httpcore

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Translation errors. They are shared values so that refusing a request
// does not allocate; callers must not modify them.
var (
	errNotAbsolute = &Error{Status: 400, Reason: "request path does not start with /"}
	errBadEscape   = &Error{Status: 400, Reason: "bad percent-escape in path"}
	errNUL         = &Error{Status: 400, Reason: "nul byte in path"}
	errAboveRoot   = &Error{Status: 400, Reason: "path climbs above the document root"}
	errNotFound    = &Error{Status: 404, Reason: "no such file"}
	errForbidden   = &Error{Status: 403, Reason: "access denied"}
	errNoIndex     = &Error{Status: 403, Reason: "directory without index.html"}
	errNotRegular  = &Error{Status: 403, Reason: "not a regular file"}
	errEscapes     = &Error{Status: 403, Reason: "path leaves the document root"}
	errInternal    = &Error{Status: 500, Reason: "cannot open file"}
)

// indexName is served for a directory; there are never listings.
const indexName = "index.html"

// cleanBufSize is the stack scratch for decoded paths; longer paths spill
// to the heap.
const cleanBufSize = 512

// CleanPath decodes the percent-escapes of a request path exactly once,
// then normalises its segments: empty and "." segments go, ".." pops one,
// and a ".." above the root is refused. Backslashes are ordinary bytes.
// The result, appended to dst, is relative to the root with no leading
// slash; it ends in "/" when the request named a directory ("/a/", "/a/.").
func CleanPath(dst, path []byte) ([]byte, *Error) {
	if len(path) == 0 || path[0] != '/' {
		return dst, errNotAbsolute
	}
	start := len(dst)
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '%' {
			if i+2 >= len(path) {
				return dst[:start], errBadEscape
			}
			hi, ok1 := unhex(path[i+1])
			lo, ok2 := unhex(path[i+2])
			if !ok1 || !ok2 {
				return dst[:start], errBadEscape
			}
			c = hi<<4 | lo
			i += 2
		}
		if c == 0 {
			return dst[:start], errNUL
		}
		dst = append(dst, c)
	}
	n, err := normalise(dst[start:])
	if err != nil {
		return dst[:start], err
	}
	return dst[:start+n], nil
}

// normalise rewrites the decoded absolute path b in place and returns the
// length of the result. The output never overtakes the input: every
// segment written is preceded by at least one slash that was read.
func normalise(b []byte) (int, *Error) {
	out, dir := 0, false
	for i := 0; i < len(b); {
		for i < len(b) && b[i] == '/' {
			i++
		}
		j := i
		for j < len(b) && b[j] != '/' {
			j++
		}
		seg := b[i:j]
		dir = j == len(b) && (len(seg) == 0 || string(seg) == "." || string(seg) == "..")
		switch {
		case len(seg) == 0, string(seg) == ".":
		case string(seg) == "..":
			if out == 0 {
				return 0, errAboveRoot
			}
			out = max(lastSlash(b[:out]), 0)
		default:
			if out > 0 {
				b[out] = '/'
				out++
			}
			out += copy(b[out:], seg)
		}
		i = j
	}
	if dir && out > 0 {
		b[out] = '/'
		out++
	}
	return out, nil
}

func lastSlash(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '/' {
			return i
		}
	}
	return -1
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// openName is the name to open beneath the root for a cleaned path.
func openName(clean []byte) string {
	if len(clean) == 0 {
		return "."
	}
	return string(clean)
}

// open opens a cleaned path beneath the root: a regular file, or the
// index.html of a directory. O_NONBLOCK keeps a FIFO from blocking the
// open; it is refused right after as not regular.
func (c *Core) open(name string, now time.Time) (*File, *Error) {
	osf, err := c.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, openError(err)
	}
	var st unix.Stat_t
	fd := int(osf.Fd())
	if err := unix.Fstat(fd, &st); err != nil {
		osf.Close()
		return nil, errInternal
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		osf.Close()
		if len(name) >= len(indexName) && name[len(name)-len(indexName):] == indexName {
			return nil, errNoIndex // index.html is itself a directory
		}
		f, e := c.open(joinIndex(name), now)
		if e == errNotFound {
			e = errNoIndex
		}
		return f, e
	default:
		osf.Close()
		return nil, errNotRegular
	}
	f := &File{osf: osf, fd: fd, name: name, ctype: MIMEType(name)}
	if c.leases != nil {
		if e := c.lease(f, &st); e != nil {
			osf.Close()
			return nil, e
		}
	}
	f.id = statID(&st)
	f.modTime = time.Unix(st.Mtim.Unix())
	AppendHTTPDate(f.lastMod[:0], f.modTime)
	f.refs.Store(1)
	f.checked.Store(now.UnixNano())
	return f, nil
}

func joinIndex(dir string) string {
	switch {
	case dir == ".":
		return indexName
	case dir[len(dir)-1] == '/':
		return dir + indexName
	}
	return dir + "/" + indexName
}

func statID(st *unix.Stat_t) fileID {
	return fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano()}
}

// openError maps an open failure to a status. os.Root reports a path that
// leaves the root (through "..", or a symlink) with an error that is not
// an errno; it becomes 403 like any refusal.
func openError(err error) *Error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR),
		errors.Is(err, syscall.ENAMETOOLONG): // no such name can exist
		return errNotFound
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ELOOP):
		return errForbidden
	case errors.As(err, &errno):
		return errInternal
	}
	return errEscapes
}

// unchanged re-stats f's name through the root and reports whether it
// still names the same version of the same file.
func (c *Core) unchanged(f *File) bool {
	fi, err := c.root.Stat(f.name)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	return uint64(st.Dev) == f.id.dev && uint64(st.Ino) == f.id.ino &&
		st.Size == f.id.size && st.Mtim.Nano() == f.id.mtime
}
