package cgi

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"flashbench/cgi-apps/cgiproto"
	"flashbench/servers/httpcore"
)

// Manager is the blocking face: Call and ServeCGI block the calling
// thread until the program answers. It is safe for concurrent use; each
// process serves one caller at a time.
type Manager struct {
	opts  Options
	core  *httpcore.Core
	progs programs

	mu     sync.Mutex
	pools  map[string]*bpool
	closed bool

	nextID                            atomic.Uint64
	spawned, died, timedOut, requests atomic.Uint64
}

// bpool is one program's processes: slots bounds them, idle holds the
// ones waiting for a request.
type bpool struct {
	path  string
	slots chan struct{}
	mu    sync.Mutex
	idle  []*bproc
}

// bproc is a process with blocking ends on its pipes.
type bproc struct {
	*proc
	in  *os.File
	out *os.File
	rd  *cgiproto.Reader
	buf []byte
}

// NewManager returns a Manager for the programs in opts.Dir, answering
// through core (headers, error pages).
func NewManager(core *httpcore.Core, opts Options) *Manager {
	opts = opts.withDefaults()
	return &Manager{opts: opts, core: core, progs: programs{dir: opts.Dir}, pools: map[string]*bpool{}}
}

// Counts returns the process counters.
func (m *Manager) Counts() Counts {
	return Counts{Spawned: m.spawned.Load(), Died: m.died.Load(), TimedOut: m.timedOut.Load(), Requests: m.requests.Load()}
}

// Result is a program's response.
type Result struct {
	Status      int
	ContentType []byte
	Body        []byte
}

// StatusError is a request a program did not answer: 404 (no such
// program), 502 (it died or broke the protocol), 504 (it timed out).
type StatusError struct {
	Status int
	Err    error
}

func (e *StatusError) Error() string { return e.Err.Error() }
func (e *StatusError) Unwrap() error { return e.Err }

// Call runs req on program name and returns its response.
func (m *Manager) Call(name []byte, req *cgiproto.Request) (Result, error) {
	path, ok := m.progs.path(name)
	if !ok {
		return Result{}, &StatusError{404, errorf("no program %q", name)}
	}
	m.requests.Add(1)
	m.opts.Stats.UserCopyBytes.Add(uint64(len(req.Body)))
	if m.opts.Classic {
		return m.classic(path, name, req)
	}
	bp, err := m.pool(path)
	if err != nil {
		return Result{}, err
	}
	deadline := time.Now().Add(m.opts.Timeout)
	select {
	case bp.slots <- struct{}{}:
	case <-time.After(m.opts.Timeout):
		m.timedOut.Add(1)
		return Result{}, &StatusError{504, errorf("%s: every process busy for %v", name, m.opts.Timeout)}
	}
	defer func() { <-bp.slots }()
	for attempt := 0; ; attempt++ {
		p, err := m.take(bp)
		if err != nil {
			return Result{}, &StatusError{502, err}
		}
		res, err := m.roundTrip(p, req, deadline)
		if err == nil {
			bp.mu.Lock()
			bp.idle = append(bp.idle, p)
			bp.mu.Unlock()
			return res, nil
		}
		p.kill()
		m.died.Add(1)
		// A process that died while idle fails the write: the request
		// never reached it, so a new process may take it, once.
		if !errors.Is(err, errUndelivered) || attempt > 0 {
			return Result{}, err
		}
	}
}

// errUndelivered marks a request that could not be written to a process.
var errUndelivered = errors.New("request not delivered")

// pool returns the process pool of the program at path.
func (m *Manager) pool(path string) (*bpool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, &StatusError{503, errorf("closed")}
	}
	bp := m.pools[path]
	if bp == nil {
		bp = &bpool{path: path, slots: make(chan struct{}, m.opts.Procs)}
		m.pools[path] = bp
	}
	return bp, nil
}

// take returns an idle process of bp, or a new one.
func (m *Manager) take(bp *bpool) (*bproc, error) {
	bp.mu.Lock()
	if n := len(bp.idle); n > 0 {
		p := bp.idle[n-1]
		bp.idle = bp.idle[:n-1]
		bp.mu.Unlock()
		return p, nil
	}
	bp.mu.Unlock()
	p, err := spawn(bp.path, m.opts.Root, 0)
	if err != nil {
		return nil, err
	}
	m.spawned.Add(1)
	// The non-blocking ends become pollable Files, so that deadlines work.
	bpr := &bproc{proc: p, in: os.NewFile(uintptr(p.wfd), "cgi-in"), out: os.NewFile(uintptr(p.rfd), "cgi-out")}
	bpr.rd = cgiproto.NewReader(bpr.out)
	return bpr, nil
}

// roundTrip sends one request and reads its response.
func (m *Manager) roundTrip(p *bproc, req *cgiproto.Request, deadline time.Time) (Result, error) {
	req.ID = m.nextID.Add(1)
	p.buf = cgiproto.AppendRequest(p.buf[:0], req)
	p.in.SetWriteDeadline(deadline)
	p.out.SetReadDeadline(deadline)
	if _, err := p.in.Write(p.buf); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return Result{}, m.failure("write request", err)
		}
		return Result{}, &StatusError{502, errorf("write request: %w: %w", errUndelivered, err)}
	}
	kind, payload, err := p.rd.Next()
	if err != nil {
		return Result{}, m.failure("read response", err)
	}
	var r cgiproto.Response
	if kind != cgiproto.KindResponse || cgiproto.DecodeResponse(payload, &r) != nil || r.ID != req.ID || len(r.Segments) > 0 {
		return Result{}, &StatusError{502, errorf("bad response frame (kind %d)", kind)}
	}
	// The body aliases the reader's buffer: hand that buffer over to the
	// caller rather than copy it again.
	p.rd.Detach()
	m.opts.Stats.UserCopyBytes.Add(uint64(len(r.Body)))
	return Result{Status: r.Status, ContentType: r.ContentType, Body: r.Body}, nil
}

func (m *Manager) failure(what string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		m.timedOut.Add(1)
		return &StatusError{504, errorf("%s: %w", what, err)}
	}
	return &StatusError{502, errorf("%s: %w", what, err)}
}

// ServeCGI answers a request on a blocking connection (connloop.CGI).
func (m *Manager) ServeCGI(name []byte, req *httpcore.Request, body []byte, p *httpcore.Plan) {
	var creq cgiproto.Request
	fillRequest(&creq, req, body)
	res, err := m.Call(name, &creq)
	if err != nil {
		status := 502
		var se *StatusError
		if errors.As(err, &se) {
			status = se.Status
		}
		m.core.RespondError(status, req, p)
		return
	}
	m.core.PlanDynamic(req, res.Status, res.ContentType, int64(len(res.Body)), p)
	if req.Method != httpcore.MethodHEAD && len(res.Body) > 0 {
		p.Kind, p.Bytes = httpcore.BodyBytes, res.Body
	}
}

// fillRequest builds the request frame for req.
func fillRequest(dst *cgiproto.Request, req *httpcore.Request, body []byte) {
	dst.Method, dst.Path, dst.Query, dst.Body = req.MethodBytes, req.Path, req.Query, body
	dst.Headers = dst.Headers[:0]
	for _, h := range req.Headers {
		dst.Headers = append(dst.Headers, cgiproto.Header{Name: h.Name, Value: h.Value})
	}
}

// Close kills every process; calls after Close answer 503.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	pools := m.pools
	m.pools = map[string]*bpool{}
	m.mu.Unlock()
	for _, bp := range pools {
		bp.mu.Lock()
		for _, p := range bp.idle {
			p.kill()
			<-p.done
		}
		bp.idle = nil
		bp.mu.Unlock()
	}
}

// kill kills the process and closes the Files that own its pipe ends.
func (p *bproc) kill() {
	p.cmd.Process.Kill()
	p.in.Close()
	p.out.Close()
	p.rfd, p.wfd = -1, -1
}
