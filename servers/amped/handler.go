package amped

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/stats"
)

// Handler is Flash's AMPED request handling for an evloop.Loop: the loop
// thread answers every request whose translation is in the pathname cache
// and whose mapped data is resident; a translation miss or non-resident
// data goes to a helper process, and the connection waits (without
// blocking the loop) until the helper's completion arrives.
type Handler struct {
	core  *httpcore.Core
	opts  PoolOptions
	loop  *evloop.Loop
	pool  *Pool
	stats *stats.Counters
	chunk int64
}

// NewHandler returns a handler for core whose helpers run as opts says.
// Attach must give it its loop before the loop runs.
func NewHandler(core *httpcore.Core, opts PoolOptions) *Handler {
	return &Handler{core: core, opts: opts, chunk: core.Config().ChunkSize}
}

// Attach binds h to the loop that calls it, whose epoll also watches the
// helpers' reply pipes, and counts helper dispatches in the loop's
// counters.
func (h *Handler) Attach(l *evloop.Loop) error {
	pool, err := NewPool(l, h.opts)
	if err != nil {
		return err
	}
	h.loop, h.pool, h.stats = l, pool, l.Stats()
	l.After(0, func() {
		if err := pool.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err) // helpers will be started on demand
		}
	})
	return nil
}

// Close kills the helpers and waits until they are reaped. Call it once
// the loop has stopped.
func (h *Handler) Close() error { return h.pool.Close() }

// Stats returns the helper counters; it is safe from any goroutine.
func (h *Handler) Stats() Stats { return h.pool.Stats() }

// Serve plans the response to req. Refusals need no disk and are answered
// at once, as is a request whose translation is cached and whose data is
// resident; the rest wait for a helper.
func (h *Handler) Serve(c *evloop.Conn, req *httpcore.Request, p *httpcore.Plan) bool {
	p.Release()
	if status := h.core.Refuse(req); status != 0 {
		h.core.RespondError(status, req, p)
		return true
	}
	if f, ok := h.core.RevalidatedFile(req.Path); ok {
		return h.plan(c, req, p, f)
	}
	var buf [512]byte
	clean, e := httpcore.CleanPath(buf[:0], req.Path)
	if e != nil {
		h.core.RespondError(e.Status, req, p)
		return true
	}
	if len(clean)+1 > MaxPath {
		h.core.RespondError(414, req, p)
		return true
	}
	h.countDispatch()
	job := Request{Kind: KindResolve, Path: string(req.Path), Length: resolveReadLength(req)}
	h.pool.Submit(job, func(_ syscall.Errno, err error) {
		if err != nil {
			h.unavailable(c, req, p)
			return
		}
		// The helper has brought the path's metadata into memory: the
		// translation below finds it there instead of waiting for disk.
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
	return false
}

// MaxResolveRead bounds the bytes a resolve job reads from the start of
// the file it resolves. A cold file, all of whose body is then resident,
// costs one round trip to a helper instead of two (resolve, then page-in);
// the bound keeps one job from reading a huge file into a small page cache
// at once (the rest goes to page-in jobs, as for any non-resident data).
// 1 MiB covers every file of the SPECweb sets.
const MaxResolveRead = 1 << 20

// resolveReadLength returns how much of the file a resolve job for req
// should read: nothing when the response will carry no body from the file
// (HEAD; a conditional GET most likely answered 304), else MaxResolveRead.
func resolveReadLength(req *httpcore.Request) int64 {
	if req.Method != httpcore.MethodGET || len(req.IfModifiedSince) != 0 {
		return 0
	}
	return MaxResolveRead
}

// plan plans f's response and reports whether its data is resident. If
// not, a helper pages the missing range in and the connection completes
// afterwards.
func (h *Handler) plan(c *evloop.Conn, req *httpcore.Request, p *httpcore.Plan, f *httpcore.File) bool {
	name := f.Name()
	h.core.PlanFile(req, f, p)
	off, n := h.coldRange(p)
	if n == 0 {
		return true
	}
	h.countDispatch()
	h.pool.Submit(Request{Kind: KindPageIn, Path: name, Offset: off, Length: n}, func(_ syscall.Errno, err error) {
		if err != nil {
			h.unavailable(c, req, p)
			return
		}
		if _, n := h.coldRange(p); n != 0 {
			h.pool.stats.stillCold.Add(1) // evicted again already: send anyway
		}
		h.loop.Complete(c)
	})
	return false
}

// ResidencyMemo is how long data found resident is trusted to stay so
// without testing it again. Flash tests residency before every send; on a
// cached workload that is one mincore or cachestat call per response,
// which SPED does not make. Trusting a positive test for a few
// milliseconds leaves a hot file one test per period, while data that the
// page cache evicts is still found cold within the period.
const ResidencyMemo = 10 * time.Millisecond

// coldRange returns the byte range of p's body that is not all in memory,
// or a zero length when it is (or p has no file body: HEAD, 304, errors).
// A mapped body is tested chunk by chunk; a file range (Flash-Lite's
// sendfile path) as a whole.
func (h *Handler) coldRange(p *httpcore.Plan) (off, n int64) {
	switch p.Kind {
	case httpcore.BodyFile:
		if p.File.ResidentAt(p.Offset, p.Length, h.loop.Now(), ResidencyMemo) {
			return 0, 0
		}
		return p.Offset, p.Length
	case httpcore.BodyMapped:
	default:
		return 0, 0
	}
	first, last := -1, -1
	for i, ch := range p.Chunks {
		if !ch.ResidentAt(h.loop.Now(), ResidencyMemo) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0, 0
	}
	off = int64(first) * h.chunk
	end := int64(last)*h.chunk + int64(len(p.Chunks[last].Bytes()))
	return off, end - off
}

func (h *Handler) countDispatch() {
	if h.stats != nil {
		h.stats.HelperDispatches.Add(1)
	}
}

// unavailable answers 503 to a request whose job no helper completed.
func (h *Handler) unavailable(c *evloop.Conn, req *httpcore.Request, p *httpcore.Plan) {
	h.pool.stats.unavailable.Add(1)
	h.core.RespondError(503, req, p)
	h.loop.Complete(c)
}
