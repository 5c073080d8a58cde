package proctree

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Status holds the fields of /proc/PID/status that flashbench reads.
type Status struct {
	// RSSBytes is the resident set now (VmRSS).
	RSSBytes int64
	// HWMBytes is the peak resident set so far (VmHWM).
	HWMBytes int64
	// Threads is the number of threads.
	Threads int
}

// ReadStatus reads /proc/PID/status. A zombie has no memory fields; they
// read as zero.
func ReadStatus(pid int) (Status, error) {
	b, err := readProc(pid, "status")
	if err != nil {
		return Status{}, err
	}
	return parseStatus(b)
}

// parseStatus picks VmRSS, VmHWM (in kB) and Threads out of a status file.
func parseStatus(b []byte) (Status, error) {
	var s Status
	for line := range bytes.Lines(b) {
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(name) {
		case "VmRSS":
			dst = &s.RSSBytes
		case "VmHWM":
			dst = &s.HWMBytes
		case "Threads":
			n, err := strconv.Atoi(string(bytes.TrimSpace(val)))
			if err != nil {
				return Status{}, fmt.Errorf("proctree: malformed Threads %q", val)
			}
			s.Threads = n
			continue
		default:
			continue
		}
		num, _ := bytes.CutSuffix(bytes.TrimSpace(val), []byte(" kB"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(num)), 10, 64)
		if err != nil {
			return Status{}, fmt.Errorf("proctree: malformed %s %q", name, val)
		}
		*dst = n * 1024
	}
	return s, nil
}

// Memory is the resident memory of a process tree at one moment.
type Memory struct {
	// Processes is how many processes were counted (the root included).
	Processes int
	// RSSBytes sums VmRSS over the tree.
	RSSBytes int64
	// HWMBytes sums VmHWM over the tree: each process's own peak, so
	// at least the tree's resident memory at any moment in the lifetime
	// of the processes counted.
	HWMBytes int64
}

// TreeMemory sums the resident memory of pid and every live process below
// it. Processes that exit while it reads are skipped.
func TreeMemory(pid int) (Memory, error) {
	all, err := List()
	if err != nil {
		return Memory{}, err
	}
	pids := []int{pid}
	for _, p := range descendants(all, pid) {
		pids = append(pids, p.PID)
	}
	return SumMemory(pids)
}

// SumMemory sums the resident memory of the given processes, skipping
// those that no longer exist. It reads one small file per process, where
// TreeMemory reads one per process of the system: a parent that knows its
// children samples them this way at a fraction of the cost.
func SumMemory(pids []int) (Memory, error) {
	var m Memory
	for _, pid := range pids {
		s, err := ReadStatus(pid)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // exited, or reaped while being read
		}
		if err != nil {
			return Memory{}, err
		}
		m.Processes++
		m.RSSBytes += s.RSSBytes
		m.HWMBytes += s.HWMBytes
	}
	return m, nil
}

// Peak tracks the peak resident memory of a process tree by sampling it.
// The zero value is ready; it is safe for concurrent use.
//
// A sample sums VmHWM over the live tree, and Peak keeps the largest sum.
// For long-lived processes (a prefork pool) that is an upper bound of the
// true peak: their peaks need not have coincided. For short-lived children
// (a process per connection) it is an estimate: a child born and reaped
// between two samples is not seen, so sample at least as often as the
// connections of interest last; the largest reaped child's ru_maxrss
// (getrusage RUSAGE_CHILDREN) bounds what one missed child holds.
type Peak struct {
	mu  sync.Mutex
	max Memory
}

// Sample measures the tree below pid now and keeps it if it is the peak.
func (p *Peak) Sample(pid int) error {
	m, err := TreeMemory(pid)
	if err != nil {
		return err
	}
	p.keep(m)
	return nil
}

// SampleSet measures the given processes now (SumMemory) and keeps the
// sum if it is the peak.
func (p *Peak) SampleSet(pids []int) error {
	m, err := SumMemory(pids)
	if err != nil {
		return err
	}
	p.keep(m)
	return nil
}

func (p *Peak) keep(m Memory) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m.HWMBytes > p.max.HWMBytes {
		p.max = m
	}
}

// SampleEvery samples the processes pids returns (SampleSet) now and then
// every period until the returned function is called; that function
// returns once sampling has stopped. A parent that re-executes children
// uses it to follow its tree's peak memory while they come and go.
func (p *Peak) SampleEvery(period time.Duration, pids func() []int) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			p.SampleSet(pids())
			select {
			case <-t.C:
			case <-quit:
				return
			}
		}
	}()
	return func() { close(quit); <-done }
}

// Max returns the sample with the largest summed VmHWM so far.
func (p *Peak) Max() Memory {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
}
