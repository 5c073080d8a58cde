package httpcore

import (
	"sync"

	"golang.org/x/sys/unix"
)

// leaseState says whether a File holds a read lease (Config.Lease).
type leaseState uint8

const (
	leaseNone    leaseState = iota // leases are off
	leaseHeld                      // a read lease: no one may truncate or write the file
	leaseBusy                      // refused with EAGAIN: open for writing, or a break pending
	leaseRefused                   // refused for good (not the owner, leases off or unsupported)
)

// leaseSet is the registry of a Core's leased files, open or retired, so
// that the files whose lease the kernel is breaking can be found (one
// F_GETLEASE each, only when a break is signalled).
//
// With sendfile (drain), a leased file is not closed when its last
// reference goes: its pages may still sit in socket queues, and closing
// would give up the lease and let a truncation zero them. It is retired
// instead, until the architecture takes it back (RetiredLeases) and
// closes it once no socket can reference its pages any more. A mapped
// body is copied into the socket by writev, so a file sent that way
// closes on its last release, which comes once no writev can read it.
type leaseSet struct {
	mu      sync.Mutex
	files   map[*File]struct{}
	retired []*File
	drain   bool // bodies are sent by reference (Config.SendFile)
	closed  bool // the Core is closed: files close on their last release
}

// lease takes a read lease on f, whose descriptor has just been opened
// and fstat'ed into st. Once the lease is held st is taken again: a
// change made before the lease is then seen, and none can follow it.
func (c *Core) lease(f *File, st *unix.Stat_t) *Error {
	_, err := unix.FcntlInt(uintptr(f.fd), unix.F_SETLEASE, unix.F_RDLCK)
	switch err {
	case nil:
	case unix.EAGAIN:
		f.lease = leaseBusy
		c.leaseBusy.Add(1)
		return nil
	default:
		f.lease = leaseRefused
		c.leaseRefused.Add(1)
		return nil
	}
	if err := unix.Fstat(f.fd, st); err != nil {
		return errInternal // the caller closes f, which gives the lease up
	}
	f.lease = leaseHeld
	f.leases = c.leases
	c.leases.mu.Lock()
	c.leases.files[f] = struct{}{}
	c.leases.mu.Unlock()
	return nil
}

// retire keeps f, whose last reference has just gone, open with its
// lease. It reports false when f must be closed now: its bodies were
// copied (no drain), it is stale (its holder drained it already) or the
// Core is closed. f leaves the registry before it is closed, so that no
// F_GETLEASE ever meets a closed descriptor.
func (ls *leaseSet) retire(f *File) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if f.refs.Load() > 0 {
		return true // taken back by BrokenLeases meanwhile: its owner closes it
	}
	if !ls.drain || f.stale.Load() || ls.closed {
		delete(ls.files, f)
		return false
	}
	f.retired = true
	ls.retired = append(ls.retired, f)
	return true
}

// take hands f to a caller that will drain it: one reference, stale, so
// that releasing that reference closes it.
func (ls *leaseSet) take(f *File) {
	f.stale.Store(true)
	f.checked.Store(0) // a pathname cache hit now revalidates, finding it stale
	if f.retired {
		f.retired = false
		f.refs.Store(1)
		return
	}
	f.refs.Add(1)
}

// BrokenLeases appends to dst every leased file whose lease the kernel is
// breaking or has broken (a writer waits to truncate or write it: the
// kernel signals SIGIO to the process) and returns the result. Each file
// comes with one reference for the caller and is stale from now on: the
// pathname cache no longer hands it out, and no new response may send
// from it. The writer proceeds once every reference is released, so the
// caller stops the responses sending from it (a Plan holds a reference
// until released) and releases its own once no socket can reference the
// file's pages (sendfile) or at once (mapped bodies: writev copies).
// Files still referenced elsewhere close on their last release.
func (c *Core) BrokenLeases(dst []*File) []*File {
	if c.leases == nil {
		return dst
	}
	start := len(dst)
	ls := c.leases
	ls.mu.Lock()
	for f := range ls.files {
		if f.stale.Load() {
			continue
		}
		t, err := unix.FcntlInt(uintptr(f.fd), unix.F_GETLEASE, 0)
		if err == nil && t == unix.F_RDLCK {
			continue // while a break is pending F_GETLEASE reports F_UNLCK
		}
		ls.take(f)
		dst = append(dst, f)
	}
	ls.mu.Unlock()
	for _, f := range dst[start:] {
		c.leaseBreaks.Add(1)
		if c.paths != nil {
			c.paths.removeFile(f)
		}
	}
	return dst
}

// RetiredLeases appends to dst the leased files no longer referenced
// (evicted from the pathname cache, or never cached) and returns the
// result: each with one reference for the caller, which releases it, and
// so closes the file and gives its lease up, once no socket can reference
// the file's pages.
func (c *Core) RetiredLeases(dst []*File) []*File {
	if c.leases == nil {
		return dst
	}
	ls := c.leases
	ls.mu.Lock()
	for _, f := range ls.retired {
		if f.retired {
			ls.take(f)
			dst = append(dst, f)
		}
	}
	clear(ls.retired)
	ls.retired = ls.retired[:0]
	ls.mu.Unlock()
	return dst
}

// close closes the retired files; the others close on their last release.
func (ls *leaseSet) close() {
	ls.mu.Lock()
	ls.closed = true
	var drop []*File
	for _, f := range ls.retired {
		if f.retired {
			f.retired = false
			delete(ls.files, f)
			drop = append(drop, f)
		}
	}
	ls.retired = nil
	ls.mu.Unlock()
	for _, f := range drop {
		f.close()
	}
}

// Stale reports whether f's lease was broken or f was retired: no new
// response may send from it (a sender answers 503 instead).
func (f *File) Stale() bool { return f.stale.Load() }

// Leased reports whether f holds a read lease (Config.Lease).
func (f *File) Leased() bool { return f.lease == leaseHeld }
