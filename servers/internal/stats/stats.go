// Package stats holds the counters every flashbench server architecture
// keeps while it runs, and writes them as one JSON document: requests,
// bytes, responses by status class, errors by class, helper dispatches,
// the shared core's cache counters, the peak resident memory, and the
// counters an architecture adds of its own (AddSource).
package stats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"flashbench/internal/atomicfile"
	"flashbench/servers/httpcore"

	"golang.org/x/sys/unix"
)

// SchemaVersion is the version of the JSON document WriteFile writes.
const SchemaVersion = 1

// Counters are a server's running totals. Every field is an atomic, so the
// serving threads count while another goroutine takes a Snapshot. The zero
// value is ready to use; a nil *Counters is not.
type Counters struct {
	// Connections counts accepted connections.
	Connections atomic.Uint64
	// Requests counts responses started (one per request answered,
	// error responses included).
	Requests atomic.Uint64
	// BytesSent counts bytes written to client sockets.
	BytesSent atomic.Uint64
	// Status2xx .. Status5xx count responses by status class.
	Status2xx, Status3xx, Status4xx, Status5xx atomic.Uint64
	// Errors by class: failed reads, failed writes, timeouts (header, idle,
	// write), resets (ECONNRESET, EPIPE), EFAULT from a mapped file
	// truncated under a send, and failed accepts.
	ReadErrors, WriteErrors, TimeoutErrors, ResetErrors, EFaultErrors, AcceptErrors atomic.Uint64
	// HelperDispatches counts work handed to helper processes (amped).
	HelperDispatches atomic.Uint64
	// UserCopyBytes counts bytes the server copied in user space on their
	// way to a client: CGI responses read from pipes and request bodies
	// passed to CGI programs (an IO-Lite response from shared memory
	// adds nothing).
	UserCopyBytes atomic.Uint64

	core    atomic.Pointer[httpcore.Core]
	tree    atomic.Pointer[func() int64]
	shared  atomic.Pointer[Shared]
	start   time.Time
	mu      sync.Mutex // guards sources
	sources map[string]func() any
}

// TrackTree makes Snapshot report peak() as the peak resident memory of
// the whole process tree, for the architectures that run several
// processes (e.g. a sampled proctree.Peak). Without it the tree is this
// process alone.
func (c *Counters) TrackTree(peak func() int64) {
	c.tree.Store(&peak)
}

// New returns Counters whose uptime starts now.
func New() *Counters {
	return &Counters{start: time.Now()}
}

// AttachCore makes Snapshot include the cache counters of core.
func (c *Counters) AttachCore(core *httpcore.Core) {
	c.core.Store(core)
}

// Response counts one response with the given status.
func (c *Counters) Response(status int) {
	c.Requests.Add(1)
	switch status / 100 {
	case 2:
		c.Status2xx.Add(1)
	case 3:
		c.Status3xx.Add(1)
	case 4:
		c.Status4xx.Add(1)
	case 5:
		c.Status5xx.Add(1)
	}
}

// Snapshot is a point-in-time copy of Counters plus the process figures,
// in the JSON form WriteFile writes.
type Snapshot struct {
	SchemaVersion    int            `json:"schema_version"`
	Time             time.Time      `json:"time"`
	UptimeS          float64        `json:"uptime_s"`
	Connections      uint64         `json:"connections"`
	Requests         uint64         `json:"requests"`
	BytesSent        uint64         `json:"bytes_sent"`
	Responses        StatusClasses  `json:"responses"`
	Errors           ErrorClasses   `json:"errors"`
	HelperDispatches uint64         `json:"helper_dispatches"`
	UserCopyBytes    uint64         `json:"user_copy_bytes"`
	Caches           *CacheCounters `json:"caches,omitempty"`
	Leases           *LeaseCounters `json:"leases,omitempty"`
	// PeakRSSBytes is the peak resident set of this process; the
	// children figure is that of its largest waited-for child.
	PeakRSSBytes         int64 `json:"peak_rss_bytes"`
	PeakRSSChildrenBytes int64 `json:"peak_rss_children_bytes"`
	// PeakRSSTreeBytes is the peak resident memory of this process and
	// its children together (see TrackTree).
	PeakRSSTreeBytes int64          `json:"peak_rss_tree_bytes"`
	Extra            map[string]any `json:"extra,omitempty"`
	// Sources are the values of the functions given to AddSource, by
	// name; each is encoded as a top-level key of the document.
	Sources map[string]any `json:"-"`
}

// StatusClasses counts responses by status class.
type StatusClasses struct {
	Status2xx uint64 `json:"2xx"`
	Status3xx uint64 `json:"3xx"`
	Status4xx uint64 `json:"4xx"`
	Status5xx uint64 `json:"5xx"`
}

// ErrorClasses counts errors by class.
type ErrorClasses struct {
	Read    uint64 `json:"read"`
	Write   uint64 `json:"write"`
	Timeout uint64 `json:"timeout"`
	Reset   uint64 `json:"reset"`
	EFault  uint64 `json:"efault"`
	Accept  uint64 `json:"accept"`
}

// CacheCounters are the shared core's cache hits and misses.
type CacheCounters struct {
	PathHits     uint64 `json:"path_hits"`
	PathMisses   uint64 `json:"path_misses"`
	HeaderHits   uint64 `json:"header_hits"`
	HeaderMisses uint64 `json:"header_misses"`
	MmapHits     uint64 `json:"mmap_hits"`
	MmapMisses   uint64 `json:"mmap_misses"`
	MappedBytes  int64  `json:"mapped_bytes"`
}

// LeaseCounters are the shared core's read leases (httpcore.Config.Lease):
// the leases the kernel broke because someone truncated or wrote a file
// being served, and the opens whose lease was refused, busy (the file was
// open for writing: answered 503) or for good (sent unprotected).
type LeaseCounters struct {
	Breaks  uint64 `json:"breaks"`
	Busy    uint64 `json:"busy"`
	Refused uint64 `json:"refused"`
}

// Snapshot copies the counters, the attached core's cache counters and
// the peak RSS of the process and its children.
func (c *Counters) Snapshot() Snapshot {
	s := Snapshot{
		SchemaVersion: SchemaVersion,
		Time:          time.Now().UTC(),
		Connections:   c.Connections.Load(),
		Requests:      c.Requests.Load(),
		BytesSent:     c.BytesSent.Load(),
		Responses: StatusClasses{
			Status2xx: c.Status2xx.Load(), Status3xx: c.Status3xx.Load(),
			Status4xx: c.Status4xx.Load(), Status5xx: c.Status5xx.Load(),
		},
		Errors: ErrorClasses{
			Read: c.ReadErrors.Load(), Write: c.WriteErrors.Load(),
			Timeout: c.TimeoutErrors.Load(), Reset: c.ResetErrors.Load(),
			EFault: c.EFaultErrors.Load(), Accept: c.AcceptErrors.Load(),
		},
		HelperDispatches: c.HelperDispatches.Load(),
		UserCopyBytes:    c.UserCopyBytes.Load(),
		PeakRSSBytes:     maxRSS(unix.RUSAGE_SELF),
	}
	if sh := c.shared.Load(); sh != nil {
		s.Connections += sh.Connections.Load()
		s.Errors.Accept += sh.AcceptErrors.Load()
	}
	s.PeakRSSChildrenBytes = maxRSS(unix.RUSAGE_CHILDREN)
	s.PeakRSSTreeBytes = s.PeakRSSBytes
	if peak := c.tree.Load(); peak != nil {
		s.PeakRSSTreeBytes = max((*peak)(), s.PeakRSSBytes)
	}
	if !c.start.IsZero() {
		s.UptimeS = time.Since(c.start).Seconds()
	}
	c.mu.Lock()
	for name, fn := range c.sources {
		if s.Sources == nil {
			s.Sources = make(map[string]any, len(c.sources))
		}
		s.Sources[name] = fn()
	}
	c.mu.Unlock()
	if core := c.core.Load(); core != nil {
		st := core.Stats()
		s.Caches = &CacheCounters{
			PathHits: st.PathHits, PathMisses: st.PathMisses,
			HeaderHits: st.HeaderHits, HeaderMisses: st.HeaderMisses,
			MmapHits: st.MmapHits, MmapMisses: st.MmapMisses,
			MappedBytes: st.MappedBytes,
		}
		if core.Config().Lease {
			s.Leases = &LeaseCounters{Breaks: st.LeaseBreaks, Busy: st.LeaseBusy, Refused: st.LeaseRefused}
		}
	}
	return s
}

// maxRSS returns getrusage's peak resident set in bytes (Linux reports
// KiB), or 0 if the call fails.
func maxRSS(who int) int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}

// WriteFile writes a Snapshot, with extra (configuration, architecture
// name, ...) under "extra", to path atomically: a temporary file in the
// same directory, fsync, rename, fsync of the directory. A reader never
// sees half a document.
func (c *Counters) WriteFile(path string, extra map[string]any) error {
	s := c.Snapshot()
	s.Extra = extra
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("stats: encode: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("stats: write %s: %w", path, err)
	}
	return nil
}

// AddSource makes every Snapshot, and so the stats file, carry fn's value
// under the top-level key name: how an architecture reports counters of
// its own (amped's helper spawns, deaths and retries, a master's worker
// restarts) next to the shared ones. fn runs on the goroutine taking the
// snapshot, so it must be safe to call from any goroutine, and its value
// must encode as JSON (snake_case keys, units in the keys). A name already
// taken, by another source or by a key of the document, is a programming
// error and panics.
func (c *Counters) AddSource(name string, fn func() any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.sources[name]; dup || reservedKeys[name] || name == "" {
		panic("stats: source name taken: " + name)
	}
	if c.sources == nil {
		c.sources = map[string]func() any{}
	}
	c.sources[name] = fn
}

// reservedKeys are the document's own top-level keys, which no source may
// take.
var reservedKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[Snapshot]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}()

// MarshalJSON encodes the snapshot with each source as one more top-level
// key, in name order after the fixed ones.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	type plain Snapshot // without this method
	data, err := json.Marshal(plain(s))
	if err != nil || len(s.Sources) == 0 {
		return data, err
	}
	names := make([]string, 0, len(s.Sources))
	for n := range s.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.Write(data[:len(data)-1]) // without the closing brace
	for _, n := range names {
		v, err := json.Marshal(s.Sources[n])
		if err != nil {
			return nil, fmt.Errorf("stats: encode source %s: %w", n, err)
		}
		k, _ := json.Marshal(n)
		b.WriteByte(',')
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
