// Package cgi runs flashbench's persistent CGI programs for every server
// architecture, as Flash did: a program under the CGI directory is started
// on its first request and kept for later ones, up to Options.Procs
// processes per program, talking cgiproto frames over a pair of pipes. A
// process that dies answers 502 for its request and is replaced on the
// next one; one that takes longer than Options.Timeout over a request is
// killed and the request answered 504. When it held more requests than
// the one it worked on (the event-loop face, below), the GETs and HEADs
// among those go to another process; any other fails with it.
//
// Two faces share the processes' protocol: Manager, a blocking call for
// the thread- and process-per-connection architectures and the baselines
// (safe from many threads), which gives a process one request at a time;
// and Loop, the event-loop face (sped, amped, flashlite on evloop's epoll
// loop, uring on uringloop's io_uring loop: one implementation, generic
// over the loop, Host), which registers the pipes in the loop and
// completes a request when its response frame arrives. Loop gives a process several requests at once
// when all of them are busy (Options.Depth): the requests of one round of
// the loop leave in one write, the program answers them in one write, and
// the loop reads the answers with one read, so that on a shared core the
// server and a program wake each other once per batch, not per request.
// That holds for pipes and shared memory alike.
//
// With Options.SharedMemory (flashlite, the Loop face on an epoll loop;
// an io_uring loop sends no file ranges, so uring runs without) each
// process also
// gets a shared-memory pool (a memfd) in which it writes its response
// bodies; only (offset, length) crosses the pipe, never a body byte (no
// read into a server buffer, no user-level copy). A sent buffer must stay
// immutable while the kernel may still reference it, and how long that is
// depends on how it was sent:
//
//   - A body the program keeps and hands out again and again (a cached
//     document, app.Response.Cached, flagged cgiproto.FlagZeroCopy) leaves
//     by reference, with sendfile from the memfd, like a static file from
//     the page cache: no copy at all. The socket, and on loopback the
//     receiver's queue, may reference its pages long after the server is
//     done (even after SIOCOUTQ drains: see TestSIOCOUTQNotEnough), so the
//     program never rewrites such a buffer in place: when the last
//     response referencing it is released and its cache lets it go, it
//     detaches the pages (punches them out of the memfd) before the range
//     is allocated again. Detaching costs the next writer fresh pages,
//     which a kept body pays once, not per response.
//   - A body written for one response leaves with the header in one
//     writev straight from the server's read-only mapping of the pool (the
//     one copy, into the socket, that every architecture pays). The kernel
//     is done with it as soon as the writev of its last byte returns: the
//     loop releases the plan then (or when the connection closes), the
//     server sends the process a release frame, and the process reuses the
//     range in place, its pages still mapped and warm.
package cgi

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"flashbench/servers/internal/stats"
)

// Defaults for zero Options fields.
const (
	DefaultProcs     = 4
	DefaultDepth     = 16
	DefaultTimeout   = 10 * time.Second
	DefaultPoolBytes = 8 << 20
)

// Options configure the CGI programs of one server.
type Options struct {
	// Dir is the directory of the programs; only executable regular files
	// directly in it run.
	Dir string `json:"dir"`
	// Procs bounds the processes per program.
	Procs int `json:"procs"`
	// Depth bounds the requests one process holds at once (the Loop
	// face): once every process runs, the next requests queue up in the
	// process holding the fewest, to be answered in order. The Manager
	// face gives a process one request at a time.
	Depth int `json:"depth"`
	// Timeout bounds one request to a program (504 beyond it).
	Timeout time.Duration `json:"timeout_ns"`
	// SharedMemory gives each process a shared-memory pool for its
	// response bodies (IO-Lite); the Loop face only.
	SharedMemory bool `json:"shared_memory"`
	// PoolBytes is the size of each process's pool.
	PoolBytes int `json:"pool_bytes"`
	// Classic runs each request in a new process as CGI/1.1 (RFC 3875)
	// instead of persistent processes; the Manager face only.
	Classic bool `json:"classic"`
	// Root is the document root, passed to programs as
	// FLASHBENCH_CGI_ROOT.
	Root string `json:"root"`
	// Stats, when set, counts user-space copies (UserCopyBytes).
	Stats *stats.Counters `json:"-"`
}

func (o Options) withDefaults() Options {
	if o.Procs <= 0 {
		o.Procs = DefaultProcs
	}
	if o.Depth <= 0 {
		o.Depth = DefaultDepth
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PoolBytes <= 0 {
		o.PoolBytes = DefaultPoolBytes
	}
	pg := os.Getpagesize()
	o.PoolBytes = (o.PoolBytes + pg - 1) / pg * pg
	if o.Stats == nil {
		o.Stats = stats.New()
	}
	return o
}

// EnvRoot is the variable that tells programs the document root.
const EnvRoot = "FLASHBENCH_CGI_ROOT"

// programs finds programs by name, remembering the ones found.
type programs struct {
	dir   string
	mu    sync.Mutex
	found map[string]string
}

// path returns the program file for name, or false when there is no
// executable regular file of that name directly in the directory. name
// comes from httpcore.Core.CGIName, so it holds no '/' and is not "..".
func (ps *programs) path(name []byte) (string, bool) {
	ps.mu.Lock()
	p, ok := ps.found[string(name)]
	ps.mu.Unlock()
	if ok {
		return p, true
	}
	if ps.dir == "" {
		return "", false
	}
	p = filepath.Join(ps.dir, string(name))
	if filepath.Dir(p) != filepath.Clean(ps.dir) {
		return "", false
	}
	fi, err := statInside(ps.dir, string(name))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", false
	}
	ps.mu.Lock()
	if ps.found == nil {
		ps.found = map[string]string{}
	}
	ps.found[string(name)] = p
	ps.mu.Unlock()
	return p, true
}

// statInside stats name in dir, following symlinks only as long as they
// stay inside dir: a symlink to a program elsewhere is no program of the
// CGI directory.
func statInside(dir, name string) (os.FileInfo, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.Stat(name)
}

// Counts are a face's process counters, for the stats file.
type Counts struct {
	Spawned  uint64 `json:"processes_spawned"`
	Died     uint64 `json:"processes_died"`
	TimedOut uint64 `json:"requests_timed_out"`
	Requests uint64 `json:"requests"`
	// SharedResponses counts responses sent from shared memory.
	SharedResponses uint64 `json:"shared_memory_responses"`
	// ReadBuffers counts the buffers an event loop made to read response
	// frames into: once the loop is warm it reuses them, so the count
	// follows the responses in flight at once, not the responses sent.
	ReadBuffers uint64 `json:"read_buffers_made"`
}

// errorf builds an error of this package.
func errorf(format string, args ...any) error { return fmt.Errorf("cgi: "+format, args...) }
