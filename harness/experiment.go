package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"flashbench/cgi-apps/content"
	"flashbench/harness/report"
)

// Experiment is one experiment file: what to run (architectures, file set,
// load) and the one parameter it sweeps.
type Experiment struct {
	// Name is the experiment's name; it names the results directory.
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// Figure is the paper's figure or table the experiment reproduces.
	Figure string `toml:"figure"`
	// Archs are `webserver --arch` names and external servers (Externals).
	Archs   []string `toml:"archs"`
	FileSet FileSet  `toml:"fileset"`
	Load    Load     `toml:"load"`
	Server  Server   `toml:"server"`
	// Sweep is the varied parameter; nil runs one point per architecture.
	Sweep *Sweep `toml:"sweep"`
	// Memory bounds the server's page cache, for disk-bound experiments.
	Memory *Memory `toml:"memory"`
	// Disk serves the file set from a slow device model, for disk-bound
	// experiments.
	Disk *Disk `toml:"disk"`
	// Paper holds the paper's numbers, as ratios, shown beside the tables.
	Paper *Paper `toml:"paper"`
	// Targets are flashbench's own goals: one-sided bounds on ratios
	// between two of Archs, judged met, not met or undecided.
	Targets []report.Target `toml:"target"`
	// Syscalls, when its requests are positive, counts each contender's
	// system calls after the measured rounds (syscalls.go).
	Syscalls *Syscalls `toml:"syscalls"`

	// Source is the text of the file the experiment was parsed from.
	Source string `toml:"-"`
}

// FileSet selects the file set (fileset.Options) the servers serve.
type FileSet struct {
	// Kind is specweb99, specweb96, fixed, single, or cgi: no files, every
	// request asks /cgi-bin/PROGRAM?size=SizeBytes.
	Kind      string `toml:"kind"`
	Count     int    `toml:"count"`
	SizeBytes int64  `toml:"size_bytes"`
	// Connections sizes the SPECweb sets.
	Connections int    `toml:"connections"`
	Seed        uint64 `toml:"seed"`
	// Program is the CGI program of the cgi kind (default dyn).
	Program string `toml:"program"`
}

// Load is the client side: the loadgen configuration of every point.
type Load struct {
	Connections int `toml:"connections"`
	// RequestsPerConn is 1 for HTTP/1.0 style, 0 for unlimited keep-alive.
	RequestsPerConn int      `toml:"requests_per_conn"`
	Duration        Duration `toml:"duration"`
	Warmup          Duration `toml:"warmup"`
	Trials          int      `toml:"trials"`
	Threads         int      `toml:"threads"`
	ThinkTime       Duration `toml:"think_time"`
	Timeout         Duration `toml:"timeout"`
	// RatePerConnRPS, when positive, paces each connection (open loop,
	// total rate = connections * this): slow clients.
	RatePerConnRPS float64 `toml:"rate_per_conn_rps"`
	// MaxErrorRatio is the share of failed requests above which a point
	// fails (default 0.01).
	MaxErrorRatio float64 `toml:"max_error_ratio"`
	// AllowSaturatedClient keeps points whose client was saturated (marked
	// in the summary) instead of failing them: for machines too small to
	// saturate the server from one client core, and for tests.
	AllowSaturatedClient bool `toml:"allow_saturated_client"`
	// ServerCPU is the server's CPU budget in cores (0.3: 30% of one core;
	// DefaultServerCPU when absent; 1: no quota): a cgroup quota on its
	// whole process tree, so that the server, not the client, bounds
	// throughput, as on the papers' testbeds.
	ServerCPU float64 `toml:"server_cpu"`
}

// Server holds options passed to every `webserver` architecture.
type Server struct {
	// Args are extra webserver flags, e.g. ["--helpers", "4"].
	Args []string `toml:"args"`
}

// Sweep is the parameter an experiment varies and its values.
type Sweep struct {
	Param  string `toml:"param"`
	Values []any  `toml:"values"`
}

// Memory bounds the server's memory (and so its page cache) with a memory
// cgroup and evicts the file set before every point.
type Memory struct {
	LimitBytes int64 `toml:"limit_bytes"`
}

// Syscalls is the [syscalls] table: the requests of each contender's
// system call count, made under strace in an unmeasured pass of its own;
// 0 or absent: none.
type Syscalls struct {
	Requests int `toml:"requests"`
}

// MaxSyscallRequests bounds a system call pass: strace slows the server
// down many times over.
const MaxSyscallRequests = 1_000_000

// Paper is what the paper reported, as ratios between architectures.
type Paper struct {
	// Ratios maps "a/b" (two archs, or two values of the swept parameter)
	// to the paper's ratio: a number, or a table of numbers keyed by the
	// swept parameter's value where the paper's ratio differs by point.
	Ratios map[string]any `toml:"ratios"`
	Note   string         `toml:"note"`
	// Tolerance is how far a measured ratio may be from the paper's and
	// hold, as a factor either way (report.RatioTolerance when 0).
	Tolerance float64 `toml:"tolerance"`
}

// Duration is a time.Duration written as "4s" or "500ms" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Sweep parameters. Their names carry their units, as in config.extra.params.
const (
	ParamFileSize     = "file_size_bytes"
	ParamClients      = "clients"
	ParamConnections  = "connections"
	ParamDatasetBytes = "dataset_bytes"
	ParamCaches       = "caches"
)

// CacheCombos are the values of the caches parameter: the caches left on.
var CacheCombos = []string{"path+header+mmap", "path+header", "path+mmap", "header+mmap", "path", "header", "mmap", "none"}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ParseExperiment decodes and validates an experiment file's text. name is
// used in errors (usually the file name).
func ParseExperiment(name string, data []byte) (*Experiment, error) {
	var e Experiment
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&e)
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", name, err)
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		// The per-point tables of paper.ratios are decoded as values; the
		// TOML decoder still lists their keys.
		if len(k) > 2 && k[0] == "paper" && k[1] == "ratios" {
			continue
		}
		unknown = append(unknown, k.String())
	}
	if keys := unknown; len(keys) > 0 {
		return nil, fmt.Errorf("experiment %s: unknown key %s", name, strings.Join(keys, ", "))
	}
	e.Source = string(data)
	e.setDefaults()
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("experiment %s: %w", name, err)
	}
	return &e, nil
}

// ReadExperiment reads and parses the experiment file at path.
func ReadExperiment(path string) (*Experiment, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	return ParseExperiment(path, b)
}

func (e *Experiment) setDefaults() {
	l := &e.Load
	if l.Trials == 0 {
		l.Trials = 1
	}
	if l.Threads == 0 {
		l.Threads = 1
	}
	if l.Timeout.Duration == 0 {
		l.Timeout.Duration = 5 * time.Second
	}
	if l.MaxErrorRatio == 0 {
		l.MaxErrorRatio = 0.01
	}
	if l.ServerCPU == 0 {
		l.ServerCPU = DefaultServerCPU
	}
	if e.FileSet.Seed == 0 {
		e.FileSet.Seed = 1
	}
	if e.FileSet.Kind == KindCGI && e.FileSet.Program == "" {
		e.FileSet.Program = CGIProgram
	}
}

// Validate checks every field and the sweep's values against its parameter.
func (e *Experiment) Validate() error {
	if !nameRE.MatchString(e.Name) {
		return fmt.Errorf("name %q: want lowercase letters, digits, - and _", e.Name)
	}
	if e.Description == "" {
		return errors.New("description: missing")
	}
	if len(e.Archs) == 0 {
		return errors.New("archs: none listed")
	}
	seen := map[string]bool{}
	for _, a := range e.Archs {
		if !nameRE.MatchString(a) {
			return fmt.Errorf("archs: bad name %q", a)
		}
		if seen[a] {
			return fmt.Errorf("archs: %q listed twice", a)
		}
		seen[a] = true
	}
	if err := e.FileSet.validate(); err != nil {
		return fmt.Errorf("fileset: %w", err)
	}
	if err := e.Load.validate(); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if err := e.Server.validate(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if e.FileSet.Kind == KindCGI && (e.Memory != nil || e.Disk != nil) {
		return errors.New("memory and disk: not used by cgi (it serves no files)")
	}
	if e.Memory != nil && e.Memory.LimitBytes < 16<<20 {
		return fmt.Errorf("memory.limit_bytes: %d, want at least 16 MiB", e.Memory.LimitBytes)
	}
	if e.Disk != nil {
		if err := e.Disk.validate(e.Memory); err != nil {
			return fmt.Errorf("disk: %w", err)
		}
	}
	if s := e.Syscalls; s != nil && (s.Requests < 0 || s.Requests > MaxSyscallRequests) {
		return fmt.Errorf("syscalls.requests: %d, want 0..%d (0: no count)", s.Requests, MaxSyscallRequests)
	}
	if e.Sweep != nil {
		if err := e.validateSweep(); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
	}
	if e.Paper != nil {
		if t := e.Paper.Tolerance; !(t >= 0 && t < 1) {
			return fmt.Errorf("paper.tolerance: %v, want 0..1 (0: the default, %v)", t, report.RatioTolerance)
		}
		for k, v := range e.Paper.Ratios {
			if a, b, ok := strings.Cut(k, "/"); !ok || a == "" || b == "" || !positiveRatio(v) {
				return fmt.Errorf("paper.ratios: %q = %v, want \"a/b\" = a positive number or a table of them", k, v)
			}
		}
	}
	for i, t := range e.Targets {
		if err := e.validateTarget(t); err != nil {
			return fmt.Errorf("target %d (%q): %w", i+1, t.Ratio, err)
		}
	}
	return nil
}

// positiveRatio reports whether v is a positive number, or a non-empty
// table of positive numbers keyed by parameter value.
func positiveRatio(v any) bool {
	switch x := v.(type) {
	case int64:
		return x > 0
	case float64:
		return x > 0
	case map[string]any:
		for _, y := range x {
			if _, nested := y.(map[string]any); nested || !positiveRatio(y) {
				return false
			}
		}
		return len(x) > 0
	}
	return false
}

func (f *FileSet) validate() error {
	if f.Program != "" && f.Kind != KindCGI {
		return fmt.Errorf("program: not used by %s", f.Kind)
	}
	switch f.Kind {
	case KindCGI:
		return f.validateCGI()
	case "specweb99", "specweb96":
		if f.Connections <= 0 {
			return fmt.Errorf("connections: %d, want > 0 for %s", f.Connections, f.Kind)
		}
		if f.SizeBytes != 0 || f.Count != 0 {
			return fmt.Errorf("size_bytes and count: not used by %s", f.Kind)
		}
	case "fixed", "single":
		if f.SizeBytes <= 0 {
			return fmt.Errorf("size_bytes: %d, want > 0", f.SizeBytes)
		}
		if f.Kind == "fixed" && f.Count <= 0 {
			return fmt.Errorf("count: %d, want > 0", f.Count)
		}
		if f.Connections != 0 {
			return fmt.Errorf("connections: not used by %s", f.Kind)
		}
	default:
		return fmt.Errorf("kind %q: want specweb99, specweb96, fixed, single or cgi", f.Kind)
	}
	return nil
}

// harnessFlags are the webserver flags the harness sets itself: the
// architecture, the document root, the stats file, and the address,
// which it chooses on the topology's server side and checks (CheckTarget).
var harnessFlags = map[string]bool{"arch": true, "a": true, "root": true, "r": true,
	"listen": true, "l": true, "stats-file": true}

func (s *Server) validate() error {
	for _, a := range s.Args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if harnessFlags[name] {
			return fmt.Errorf("args: %q is set by the harness, not by an experiment", a)
		}
	}
	return nil
}

func (l *Load) validate() error {
	switch {
	case l.Connections <= 0:
		return fmt.Errorf("connections: %d, want > 0", l.Connections)
	case l.RequestsPerConn < 0:
		return fmt.Errorf("requests_per_conn: %d, want >= 0", l.RequestsPerConn)
	case l.Duration.Duration <= 0:
		return fmt.Errorf("duration: %v, want > 0", l.Duration.Duration)
	case l.Warmup.Duration < 0 || l.ThinkTime.Duration < 0 || l.Timeout.Duration < 0:
		return errors.New("warmup, think_time and timeout: want >= 0")
	case l.Trials < 0 || l.Trials > 100:
		return fmt.Errorf("trials: %d, want 1..100", l.Trials)
	case l.Threads < 0 || l.Threads > 256:
		return fmt.Errorf("threads: %d, want 1..256", l.Threads)
	case l.RatePerConnRPS < 0:
		return fmt.Errorf("rate_per_conn_rps: %v, want >= 0", l.RatePerConnRPS)
	case l.RatePerConnRPS > 0 && l.ThinkTime.Duration > 0:
		return errors.New("rate_per_conn_rps and think_time: choose one")
	case l.MaxErrorRatio < 0 || l.MaxErrorRatio > 1:
		return fmt.Errorf("max_error_ratio: %v, want 0..1", l.MaxErrorRatio)
	case !(l.ServerCPU >= MinServerCPU && l.ServerCPU <= 1):
		return fmt.Errorf("server_cpu: %v, want %v..1 (cores; 1: no quota)", l.ServerCPU, MinServerCPU)
	}
	return nil
}

func (e *Experiment) validateSweep() error {
	s := e.Sweep
	if len(s.Values) == 0 {
		return fmt.Errorf("values: none for %q", s.Param)
	}
	if s.Param == ParamCaches {
		return validateCaches(s.Values)
	}
	switch s.Param {
	case ParamFileSize:
		if e.FileSet.Kind != "fixed" && e.FileSet.Kind != "single" && e.FileSet.Kind != KindCGI {
			return fmt.Errorf("%s: needs a fixed, single or cgi file set, not %s", s.Param, e.FileSet.Kind)
		}
	case ParamDatasetBytes:
		if e.FileSet.Kind != "fixed" {
			return fmt.Errorf("%s: needs a fixed file set, not %s", s.Param, e.FileSet.Kind)
		}
	case ParamClients, ParamConnections:
	default:
		return fmt.Errorf("param %q: want one of %s", s.Param,
			strings.Join([]string{ParamFileSize, ParamClients, ParamConnections, ParamDatasetBytes, ParamCaches}, ", "))
	}
	seen := map[int64]bool{}
	for _, v := range s.Values {
		n, ok := v.(int64)
		if !ok || n <= 0 {
			return fmt.Errorf("%s: value %v, want a positive integer", s.Param, v)
		}
		if seen[n] {
			return fmt.Errorf("%s: value %d listed twice", s.Param, n)
		}
		if s.Param == ParamFileSize && e.FileSet.Kind == KindCGI && n > content.MaxSize {
			return fmt.Errorf("%s: value %d, want at most %d for cgi", s.Param, n, content.MaxSize)
		}
		seen[n] = true
	}
	return nil
}

func validateCaches(values []any) error {
	seen := map[string]bool{}
	for _, v := range values {
		s, ok := v.(string)
		if !ok || !knownCombo(s) {
			return fmt.Errorf("caches: value %v, want one of %s", v, strings.Join(CacheCombos, ", "))
		}
		if seen[s] {
			return fmt.Errorf("caches: value %q listed twice", s)
		}
		seen[s] = true
	}
	return nil
}

func knownCombo(s string) bool {
	for _, c := range CacheCombos {
		if c == s {
			return true
		}
	}
	return false
}

// SortedRatios returns the paper's ratio names in order, for stable output.
func (p *Paper) SortedRatios() []string {
	keys := make([]string, 0, len(p.Ratios))
	for k := range p.Ratios {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
