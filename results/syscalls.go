package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"flashbench/internal/atomicfile"
)

// SyscallsSchemaVersion is the version of the system call count document
// (Syscalls) this package writes and the only one it reads.
const SyscallsSchemaVersion = 1

// Syscalls is the system call count of one contender of a harness run
// (syscalls/<contender>.json in the run directory): the harness attached
// strace -c -f to the server's whole process tree while the load
// generator made a fixed number of requests in an unmeasured pass of its
// own, after the measured rounds. A pass that failed keeps its settings
// and says why in Error; its counts are then empty.
type Syscalls struct {
	SchemaVersion int    `json:"schema_version"`
	Experiment    string `json:"experiment"`
	Arch          string `json:"arch"`
	// Params is the contender's setting of the swept parameter; empty for none.
	Params    Map[any]  `json:"params"`
	StartedAt time.Time `json:"started_at"`
	// DurationS is the wall time strace was attached, s.
	DurationS float64 `json:"duration_s"`
	// RequestsRequested is the number of requests the pass asked the load
	// generator for; Requests those it completed, Connections the TCP
	// connections it opened for them.
	RequestsRequested int64 `json:"requests_requested"`
	Requests          int64 `json:"requests"`
	Connections       int64 `json:"connections"`
	// ConcurrentConnections and RequestsPerConn are the load generator's
	// connection model, the experiment's (-c and --requests-per-conn).
	ConcurrentConnections int `json:"concurrent_connections"`
	RequestsPerConn       int `json:"requests_per_conn"`
	// ProcessesAttached is the number of the server's processes strace
	// attached to at the start (their threads and later children follow).
	ProcessesAttached int `json:"processes_attached"`
	// Calls are strace's counts by system call name.
	Calls Map[SyscallCount] `json:"calls"`
	// TotalCalls and TotalErrors are strace's total row.
	TotalCalls  int64 `json:"total_calls"`
	TotalErrors int64 `json:"total_errors"`
	// CallsPerRequest and CallsPerConnection are TotalCalls over Requests
	// and over Connections (0 when there were none).
	CallsPerRequest    float64    `json:"calls_per_request"`
	CallsPerConnection float64    `json:"calls_per_connection"`
	Provenance         Provenance `json:"provenance"`
	// Error says in one line why the pass failed. Optional; omitted when
	// it did not.
	Error string `json:"error,omitempty"`
}

// SyscallCount is one system call's row of strace -c: the calls and how
// many of them returned an error.
type SyscallCount struct {
	Calls  int64 `json:"calls"`
	Errors int64 `json:"errors"`
}

// Validate checks the value rules of a Syscalls document beyond types:
// the version, an experiment and an arch, a start time in UTC, finite
// figures and counts that are not negative, no more errors than calls,
// totals that are the sums of calls, and a provenance that is not clean
// but not marked dirty (as a result's).
func (s *Syscalls) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("results: invalid system call count: %w", err)
	}
	return nil
}

func (s *Syscalls) validate() error {
	if s.SchemaVersion != SyscallsSchemaVersion {
		return fmt.Errorf("unsupported schema_version %d (this build reads %d)", s.SchemaVersion, SyscallsSchemaVersion)
	}
	c := &checker{}
	if s.Experiment == "" || s.Arch == "" {
		c.fail("experiment and arch: want both")
	}
	if s.StartedAt.IsZero() || s.StartedAt.Location() != time.UTC {
		c.fail("started_at: want a time in UTC")
	}
	c.nonNegative("duration_s", s.DurationS)
	c.nonNegative("calls_per_request", s.CallsPerRequest)
	c.nonNegative("calls_per_connection", s.CallsPerConnection)
	c.count("requests_requested", s.RequestsRequested)
	c.count("requests", s.Requests)
	c.count("connections", s.Connections)
	c.count("concurrent_connections", int64(s.ConcurrentConnections))
	c.count("requests_per_conn", int64(s.RequestsPerConn))
	c.count("processes_attached", int64(s.ProcessesAttached))
	var calls, errs int64
	for _, name := range slices.Sorted(maps.Keys(s.Calls)) {
		n := s.Calls[name]
		if name == "" || n.Calls < 0 || n.Errors < 0 || n.Errors > n.Calls {
			c.fail("calls[%q]: %d calls, %d errors: want a name and 0 <= errors <= calls", name, n.Calls, n.Errors)
		}
		calls, errs = calls+n.Calls, errs+n.Errors
	}
	if calls != s.TotalCalls || errs != s.TotalErrors {
		c.fail("total_calls %d, total_errors %d: want the sums of calls, %d and %d", s.TotalCalls, s.TotalErrors, calls, errs)
	}
	c.provenance(&s.Provenance)
	return c.err
}

// WriteSyscalls stores s at path atomically (as Write does a result),
// after validating it.
func WriteSyscalls(path string, s *Syscalls) error {
	err := s.validate()
	var data []byte
	if err == nil {
		data, err = json.MarshalIndent(s, "", "  ")
	}
	if err == nil {
		err = atomicfile.WriteFile(path, append(data, '\n'))
	}
	if err != nil {
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	return nil
}

// ReadSyscalls reads and validates the Syscalls document at path; an
// unknown key is an error.
func ReadSyscalls(path string) (*Syscalls, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", path, err)
	}
	defer f.Close()
	s, err := DecodeSyscalls(f)
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", path, err)
	}
	return s, nil
}

// DecodeSyscalls reads one Syscalls document from rd and validates it.
func DecodeSyscalls(rd io.Reader) (*Syscalls, error) {
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Syscalls
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode: data after the document")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}
