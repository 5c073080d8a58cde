package amped

import (
	"fmt"
	"os"
	"syscall"

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
	var buf [512]byte
	f, clean, done := h.core.Triage(req, p, buf[:0])
	switch {
	case done:
		return true
	case f != nil:
		return h.plan(c, req, p, f)
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
// (httpcore.ResidencyMemo).
const ResidencyMemo = httpcore.ResidencyMemo

// coldRange returns the byte range of p's body that is not all in memory
// (httpcore.Plan.ColdRange).
func (h *Handler) coldRange(p *httpcore.Plan) (off, n int64) {
	return p.ColdRange(h.chunk, h.loop.Now(), ResidencyMemo)
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
