package provenance

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"flashbench/results"
)

// Where the machine's load is read from; tests point them elsewhere.
var (
	loadavgPath = "/proc/loadavg"
	statPath    = "/proc/stat"
)

// loadSamplePeriod is how often the load average is sampled during a
// measurement. /proc/loadavg moves every 5 s, so this costs nothing and
// misses nothing.
const loadSamplePeriod = time.Second

// HostLoad samples the machine's load over a measurement (see
// results.HostLoad): the 1-minute load average at its start, about once
// a second and at its end, and the CPU steal between start and end.
type HostLoad struct {
	stopc chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	started bool
	failed  bool
	stat0   cpuTimes
	first   float64
	max     float64
	sum     float64
	n       int
}

// StartHostLoad starts sampling after delay (the warm-up: the measurement
// starts then). Stop ends it.
func StartHostLoad(delay time.Duration) *HostLoad {
	h := &HostLoad{stopc: make(chan struct{}), done: make(chan struct{})}
	go h.run(delay)
	return h
}

func (h *HostLoad) run(delay time.Duration) {
	defer close(h.done)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-h.stopc:
			t.Stop()
			return
		case <-t.C:
		}
	}
	h.begin()
	tick := time.NewTicker(loadSamplePeriod)
	defer tick.Stop()
	for {
		select {
		case <-h.stopc:
			return
		case <-tick.C:
			h.sample()
		}
	}
}

// begin takes the readings the measurement starts with.
func (h *HostLoad) begin() {
	st, err := readCPUTimes()
	h.mu.Lock()
	h.started, h.stat0, h.failed = true, st, err != nil
	h.mu.Unlock()
	h.sample()
	h.mu.Lock()
	h.first = h.max
	h.mu.Unlock()
}

func (h *HostLoad) sample() {
	l, err := readLoadAverage()
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.failed = true
		return
	}
	h.max = max(h.max, l)
	h.sum += l
	h.n++
}

// Stop ends the sampling with the end readings and returns what was
// measured: nil when the measurement never started (stopped during the
// delay) or /proc could not be read.
func (h *HostLoad) Stop() *results.HostLoad {
	close(h.stopc)
	<-h.done
	h.mu.Lock()
	started := h.started
	h.mu.Unlock()
	if !started {
		return nil
	}
	end, err := readLoadAverage()
	st, serr := readCPUTimes()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failed || err != nil || serr != nil || h.n == 0 {
		return nil
	}
	h.max = max(h.max, end)
	h.sum += end
	h.n++
	return &results.HostLoad{LoadAverage1mStart: h.first, LoadAverage1mEnd: end, LoadAverage1mMax: h.max,
		LoadAverage1mMean: min(h.sum/float64(h.n), h.max), CPUStealFraction: st.stealSince(h.stat0)}
}

// readLoadAverage returns the 1-minute load average.
func readLoadAverage() (float64, error) {
	b, err := os.ReadFile(loadavgPath)
	if err != nil {
		return 0, err
	}
	return parseLoadAverage(string(b))
}

func parseLoadAverage(s string) (float64, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, errors.New("loadavg: empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 {
		return 0, errors.New("loadavg: bad 1-minute load average " + strconv.Quote(f[0]))
	}
	return v, nil
}

// cpuTimes are the machine's CPU times in jiffies: the total over the
// states that partition it (user, nice, system, idle, iowait, irq,
// softirq, steal; guest time is counted in user already) and steal.
type cpuTimes struct{ total, steal uint64 }

func readCPUTimes() (cpuTimes, error) {
	b, err := os.ReadFile(statPath)
	if err != nil {
		return cpuTimes{}, err
	}
	return parseCPUTimes(string(b))
}

// parseCPUTimes reads the aggregate "cpu" line of /proc/stat.
func parseCPUTimes(s string) (cpuTimes, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}, errors.New("stat: no aggregate cpu line with a steal column")
	}
	var t cpuTimes
	for i, v := range f[1:9] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cpuTimes{}, errors.New("stat: bad cpu time " + strconv.Quote(v))
		}
		t.total += n
		if i == 7 {
			t.steal = n
		}
	}
	return t, nil
}

// stealSince is the share of the CPU time since before that was stolen:
// 0 when no time passed.
func (t cpuTimes) stealSince(before cpuTimes) float64 {
	if t.total <= before.total || t.steal < before.steal {
		return 0
	}
	return min(float64(t.steal-before.steal)/float64(t.total-before.total), 1)
}
