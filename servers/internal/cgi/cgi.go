// Package cgi runs flashbench's persistent CGI programs for every server
// architecture, as Flash did: a program under the CGI directory is started
// on its first request and kept for later ones, up to Options.Procs
// processes per program, each serving one request at a time over a pair
// of pipes (cgiproto frames). A process that dies answers 502 for its
// request and is replaced on the next one; one that takes longer than
// Options.Timeout is killed and its request answered 504.
//
// Two faces share the processes' protocol: Manager, a blocking call for
// the thread- and process-per-connection architectures and the baselines
// (safe from many threads), and Loop, the event-loop face (sped, amped,
// flashlite), which registers the pipes in the loop's epoll set and
// completes a request when its response frame arrives.
//
// With Options.SharedMemory (flashlite, the Loop face) each process also
// gets a shared-memory pool (a memfd) in which it writes its response
// bodies; only (offset, length) crosses the pipe. The server maps the pool
// too (read-only) and sends a body with the header in one writev straight
// from the shared pages: no read into a server buffer, no user-level
// copy (IO-Lite's data path; the writev's copy into the socket is the one
// every architecture pays). A sent buffer must stay immutable while the
// kernel may still reference it. A writev copies, so the kernel is done
// with the buffer as soon as the writev of its last byte returns: the
// loop releases the plan then (or when the connection closes), and only
// then does the server send the process a release frame for the range,
// which the process reuses, its pages still mapped and warm. Sending from
// the memfd with sendfile instead would leave the socket, and on loopback
// the receiver's queue, referencing the pool's pages long after the
// sender is done (even after SIOCOUTQ drains: see TestSIOCOUTQNotEnough),
// so a buffer could only be recycled by detaching its pages, which makes
// the process fault in and zero fresh pages for every response.
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
	DefaultTimeout   = 10 * time.Second
	DefaultPoolBytes = 8 << 20
)

// Options configure the CGI programs of one server.
type Options struct {
	// Dir is the directory of the programs; only executable regular files
	// directly in it run.
	Dir string
	// Procs bounds the processes per program.
	Procs int
	// Timeout bounds one request to a program (504 beyond it).
	Timeout time.Duration
	// SharedMemory gives each process a shared-memory pool for its
	// response bodies (IO-Lite); the Loop face only.
	SharedMemory bool
	// PoolBytes is the size of each process's pool.
	PoolBytes int
	// Classic runs each request in a new process as CGI/1.1 (RFC 3875)
	// instead of persistent processes; the Manager face only.
	Classic bool
	// Root is the document root, passed to programs as
	// FLASHBENCH_CGI_ROOT.
	Root string
	// Stats, when set, counts user-space copies (UserCopyBytes).
	Stats *stats.Counters
}

func (o Options) withDefaults() Options {
	if o.Procs <= 0 {
		o.Procs = DefaultProcs
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
}

// errorf builds an error of this package.
func errorf(format string, args ...any) error { return fmt.Errorf("cgi: "+format, args...) }
