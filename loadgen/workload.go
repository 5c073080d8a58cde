package loadgen

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"flashbench/fileset"
)

// Target is one request a workload can make. The request bytes are
// formatted once, when the run starts, never per request.
type Target struct {
	// Path is the request target, e.g. /dir00000/class1_3.
	Path string
	// Class indexes Workload.Classes, or is -1 for no class.
	Class int
	// Size is the expected body size in bytes, -1 when unknown.
	Size int64
	// SHA256 is the expected body checksum; valid when HasSum.
	SHA256 [32]byte
	// HasSum reports whether SHA256 is known.
	HasSum bool

	keepAlive []byte
	close     []byte
}

// format preformats the request bytes for host.
func (t *Target) format(host string) {
	base := "GET " + t.Path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: flashbench-loadgen\r\n"
	t.keepAlive = []byte(base + "\r\n")
	t.close = []byte(base + "Connection: close\r\n\r\n")
}

// Source hands a worker its next target; nil means the workload is spent.
// A Source is used by one worker only.
type Source interface {
	Next() *Target
}

// Workload decides what is requested. It is shared by the workers, each of
// which asks it for its own Source.
type Workload interface {
	// Targets lists every target (so the engine can preformat them).
	Targets() []*Target
	// Classes names the URL classes that Target.Class indexes.
	Classes() []string
	// Verifiable reports whether targets carry checksums.
	Verifiable() bool
	// NewSource returns the source of worker i of n.
	NewSource(i, n int, seed uint64) Source
}

// Warmer is a Source that keeps the warm-up's requests apart from the
// measurement's: the warm-up draws from NextWarmup, the measurement from
// Next, so that a finite workload (a trace) is measured whole, from its
// start, however much the warm-up took. A request drawn from NextWarmup
// is never measured, even when its response comes after the warm-up.
type Warmer interface {
	Source
	// NextWarmup returns the warm-up's next target, never nil.
	NextWarmup() *Target
}

// Single is the workload of one URL path.
type Single struct{ T Target }

// NewSingle returns the workload that requests path every time.
func NewSingle(path string) *Single { return &Single{T: Target{Path: path, Class: -1, Size: -1}} }

// Targets implements Workload.
func (s *Single) Targets() []*Target { return []*Target{&s.T} }

// Classes implements Workload.
func (s *Single) Classes() []string { return nil }

// Verifiable implements Workload.
func (s *Single) Verifiable() bool { return false }

// NewSource implements Workload.
func (s *Single) NewSource(int, int, uint64) Source { return singleSource{&s.T} }

type singleSource struct{ t *Target }

func (s singleSource) Next() *Target { return s.t }

// Weighted draws targets in proportion to their weights.
type Weighted struct {
	targets []*Target
	cum     []float64
}

// ReadURLList reads a URL list: one path (or http URL, whose path is used)
// per line, optionally followed by a positive weight (default 1); blank lines
// and lines starting with '#' are skipped.
func ReadURLList(path string) (*Weighted, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loadgen: url list: %w", err)
	}
	defer f.Close()
	w := &Weighted{}
	total := 0.0
	err = eachLine(f, func(n int, line string) error {
		fields := strings.Fields(line)
		if len(fields) > 2 {
			return fmt.Errorf("line %d: want PATH [WEIGHT]", n)
		}
		weight := 1.0
		if len(fields) == 2 {
			weight, err = strconv.ParseFloat(fields[1], 64)
			if err != nil || !(weight > 0) || weight > 1e12 {
				return fmt.Errorf("line %d: bad weight %q", n, fields[1])
			}
		}
		p, err := requestPath(fields[0])
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		total += weight
		w.targets = append(w.targets, &Target{Path: p, Class: -1, Size: -1})
		w.cum = append(w.cum, total)
		return nil
	})
	if err == nil && len(w.targets) == 0 {
		err = fmt.Errorf("no urls")
	}
	if err != nil {
		return nil, fmt.Errorf("loadgen: url list %s: %w", path, err)
	}
	return w, nil
}

// Targets implements Workload.
func (w *Weighted) Targets() []*Target { return w.targets }

// Classes implements Workload.
func (w *Weighted) Classes() []string { return nil }

// Verifiable implements Workload.
func (w *Weighted) Verifiable() bool { return false }

// NewSource implements Workload.
func (w *Weighted) NewSource(i, _ int, seed uint64) Source {
	return &weightedSource{w: w, r: rand.New(rand.NewPCG(seed, uint64(i)+1))}
}

type weightedSource struct {
	w *Weighted
	r *rand.Rand
}

func (s *weightedSource) Next() *Target {
	x := s.r.Float64() * s.w.cum[len(s.w.cum)-1]
	return s.w.targets[sort.SearchFloat64s(s.w.cum, x)]
}

// Manifest requests the files of a file set in SPECweb99 proportions
// (fileset.Sampler) and knows their sizes, classes and checksums.
type Manifest struct {
	m       *fileset.Manifest
	targets []*Target
	byFile  map[*fileset.File]*Target
}

// NewManifest builds the workload of a file set's manifest.
func NewManifest(m *fileset.Manifest) (*Manifest, error) {
	w := &Manifest{m: m, byFile: make(map[*fileset.File]*Target, len(m.Files))}
	for i := range m.Files {
		f := &m.Files[i]
		t := &Target{Path: f.URL(), Class: f.Class, Size: f.SizeBytes, HasSum: true}
		if _, err := hex.Decode(t.SHA256[:], []byte(f.SHA256)); err != nil || f.Class < 0 || f.Class > 63 {
			return nil, fmt.Errorf("loadgen: manifest: file %q: bad checksum or class", f.Path)
		}
		w.targets = append(w.targets, t)
		w.byFile[f] = t
	}
	return w, nil
}

// Targets implements Workload.
func (w *Manifest) Targets() []*Target { return w.targets }

// Classes implements Workload: class0, class1, ... up to the largest class.
func (w *Manifest) Classes() []string {
	n := 0
	for _, t := range w.targets {
		n = max(n, t.Class+1)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = "class" + strconv.Itoa(i)
	}
	return names
}

// Verifiable implements Workload.
func (w *Manifest) Verifiable() bool { return true }

// NewSource implements Workload.
func (w *Manifest) NewSource(i, _ int, seed uint64) Source {
	return &manifestSource{w: w, s: fileset.NewSampler(w.m, seed+uint64(i)*0x9e3779b97f4a7c15)}
}

type manifestSource struct {
	w *Manifest
	s *fileset.Sampler
}

func (s *manifestSource) Next() *Target { return s.w.byFile[s.s.Next()] }

// Trace replays a list of paths in order, once, shared by all workers: the
// run ends when the trace does (or earlier, at its duration). The warm-up
// makes a pass of its own over the trace from its start, as many times
// round as it lasts, and the measurement then replays the whole trace
// from its first request (its sources are Warmers).
type Trace struct {
	targets []*Target
	seq     []*Target
	next    atomic.Int64
	warm    atomic.Int64
}

// ReadTrace reads a trace file: one URL path per line, '#' comment lines.
func ReadTrace(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loadgen: trace: %w", err)
	}
	defer f.Close()
	tr := &Trace{}
	byPath := map[string]*Target{}
	err = eachLine(f, func(n int, line string) error {
		p, err := requestPath(strings.TrimSpace(line))
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		t := byPath[p]
		if t == nil {
			t = &Target{Path: p, Class: -1, Size: -1}
			byPath[p] = t
			tr.targets = append(tr.targets, t)
		}
		tr.seq = append(tr.seq, t)
		return nil
	})
	if err == nil && len(tr.seq) == 0 {
		err = fmt.Errorf("no requests")
	}
	if err != nil {
		return nil, fmt.Errorf("loadgen: trace %s: %w", path, err)
	}
	return tr, nil
}

// Len returns the number of requests in the trace.
func (tr *Trace) Len() int { return len(tr.seq) }

// Sent returns the number of the trace's requests the measurement has
// sent so far, from its start.
func (tr *Trace) Sent() int { return int(min(tr.next.Load(), int64(len(tr.seq)))) }

// Targets implements Workload.
func (tr *Trace) Targets() []*Target { return tr.targets }

// Classes implements Workload.
func (tr *Trace) Classes() []string { return nil }

// Verifiable implements Workload.
func (tr *Trace) Verifiable() bool { return false }

// NewSource implements Workload.
func (tr *Trace) NewSource(int, int, uint64) Source { return traceSource{tr} }

type traceSource struct{ tr *Trace }

func (s traceSource) Next() *Target {
	i := s.tr.next.Add(1) - 1
	if i >= int64(len(s.tr.seq)) {
		return nil
	}
	return s.tr.seq[i]
}

// NextWarmup implements Warmer: the warm-up's pass, round the trace again
// when it reaches the end.
func (s traceSource) NextWarmup() *Target {
	i := s.tr.warm.Add(1) - 1
	return s.tr.seq[i%int64(len(s.tr.seq))]
}

// eachLine calls fn with every non-blank, non-comment line and its number.
func eachLine(r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// requestPath accepts an origin-form path, or an http URL whose path it keeps.
func requestPath(s string) (string, error) {
	p := s
	if strings.HasPrefix(s, "http://") {
		t, err := parseTarget(s)
		if err != nil {
			return "", err
		}
		p = t.path
	}
	// A space or a control byte would end or split the request line.
	if !strings.HasPrefix(p, "/") || strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return "", fmt.Errorf("bad path %q", s)
	}
	return p, nil
}
