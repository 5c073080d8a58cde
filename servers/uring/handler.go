package uring

import (
	"bytes"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/uringloop"
)

// Handler is AMPED's request handling with the ring in place of the
// helper processes: the loop answers every request whose translation is
// in the pathname cache and whose mapped data is resident, as amped does;
// a translation miss is a statx on the ring, non-resident data a read on
// the ring, and the connection waits, without blocking the loop, for the
// completion. No process but the server's own takes part: the kernel
// completes a read from the page cache's callbacks where the file system
// reads asynchronously, and in one of the ring's own worker threads
// (counted in the server's CPU cgroup) where it does not, as FUSE.
type Handler struct {
	core   *httpcore.Core
	loop   *uringloop.Loop
	rootfd int
	chunk  int64
	// scratch is where page-in reads land: their point is the page cache,
	// so every read shares it and nobody looks at what it holds.
	scratch []byte
	stats   Stats
}

// ScratchSize bounds one page-in read: a cold range longer than it takes
// several, submitted together.
const ScratchSize = 1 << 20

// Stats are the handler's counters since it was made.
type Stats struct {
	// Lookups counts statx operations for translation misses.
	Lookups atomic.Uint64
	// Reads counts page-in reads, and ReadBytes what they asked for.
	Reads, ReadBytes atomic.Uint64
	// ReadErrors counts page-in reads that failed (answered 503).
	ReadErrors atomic.Uint64
	// MaxInFlight is the most file operations in flight at once.
	MaxInFlight atomic.Uint64
}

// StatsSnapshot is Stats as the stats file carries them, with the ring's
// traffic.
type StatsSnapshot struct {
	Lookups     uint64               `json:"lookups"`
	Reads       uint64               `json:"reads"`
	ReadBytes   uint64               `json:"read_bytes"`
	ReadErrors  uint64               `json:"read_errors"`
	MaxInFlight uint64               `json:"max_in_flight"`
	Ring        uringloop.RingCounts `json:"ring"`
}

// NewHandler returns a handler for core; Attach gives it its loop.
func NewHandler(core *httpcore.Core) (*Handler, error) {
	fd, err := unix.Open(core.Config().Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("uring: open root: %w", os.NewSyscallError("open", err))
	}
	return &Handler{core: core, rootfd: fd, chunk: core.Config().ChunkSize, scratch: make([]byte, ScratchSize)}, nil
}

// Attach binds h to the loop that calls it.
func (h *Handler) Attach(l *uringloop.Loop) { h.loop = l }

// Close closes the root descriptor. Call it once the loop has stopped.
func (h *Handler) Close() error { return unix.Close(h.rootfd) }

// Stats returns a snapshot of the counters; it is safe from any goroutine.
func (h *Handler) Stats() StatsSnapshot {
	return StatsSnapshot{Lookups: h.stats.Lookups.Load(), Reads: h.stats.Reads.Load(), ReadBytes: h.stats.ReadBytes.Load(),
		ReadErrors: h.stats.ReadErrors.Load(), MaxInFlight: h.stats.MaxInFlight.Load(), Ring: h.loop.RingCounts()}
}

// Serve plans the response to req. Refusals need no disk and are answered
// at once, as is a request whose translation is cached and whose data is
// resident; the rest wait for the ring.
func (h *Handler) Serve(c *uringloop.Conn, req *httpcore.Request, p *httpcore.Plan) bool {
	var buf [512]byte
	f, clean, done := h.core.Triage(req, p, buf[:0])
	switch {
	case done:
		return true
	case f != nil:
		return h.plan(c, req, p, f)
	}
	h.stats.Lookups.Add(1)
	h.loop.Statx(h.rootfd, relative(clean), func(int32) {
		// Whatever the lookup found is in the kernel's caches now: the
		// translation below waits for no disk, and a missing file is
		// its 404.
		f, e := h.core.Resolve(req.Path)
		if e != nil {
			h.core.RespondError(e.Status, req, p)
			h.loop.Complete(c)
			return
		}
		if h.plan(c, req, p, f) {
			h.loop.Complete(c)
		}
	})
	h.noteInFlight()
	return false
}

// relative turns a clean path into one relative to the document root.
func relative(clean []byte) string {
	clean = bytes.TrimLeft(clean, "/")
	if len(clean) == 0 {
		return "."
	}
	return string(clean)
}

// plan plans f's response and reports whether its data is resident. If
// not, reads on the ring bring the missing range into the page cache and
// the connection completes afterwards.
func (h *Handler) plan(c *uringloop.Conn, req *httpcore.Request, p *httpcore.Plan, f *httpcore.File) bool {
	h.core.PlanFile(req, f, p)
	off, n := p.ColdRange(h.chunk, h.loop.Now(), httpcore.ResidencyMemo)
	if n == 0 {
		return true
	}
	pending, failed := 0, false
	done := func(res int32) {
		pending--
		if res < 0 {
			failed = true
		}
		if pending > 0 {
			return
		}
		if failed {
			h.stats.ReadErrors.Add(1)
			h.core.RespondError(503, req, p)
		}
		h.loop.Complete(c)
	}
	fd := f.Fd()
	for end := off + n; off < end; off += ScratchSize {
		k := min(end-off, ScratchSize)
		pending++
		h.stats.Reads.Add(1)
		h.stats.ReadBytes.Add(uint64(k))
		h.loop.ReadAt(fd, h.scratch[:k], off, done)
	}
	h.noteInFlight()
	return false
}

// noteInFlight keeps the most file operations seen in flight.
func (h *Handler) noteInFlight() {
	if n := uint64(h.loop.FileOpsInFlight()); n > h.stats.MaxInFlight.Load() {
		h.stats.MaxInFlight.Store(n)
	}
}
