package results

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Validate reports the first way r breaks the schema's rules beyond types:
// an unsupported schema version, an empty tool, a zero start time, negative
// or non-finite counts, durations and rates, errors_total differing from the
// sum of errors, percentiles that are not monotone, a client utilisation
// outside 0..1, a dominant_error that is not a largest error class, a
// series whose times do not increase, a disk without a model or channels,
// a host_load whose steal is above 1 or whose samples exceed their
// maximum, a provenance that is not clean but not marked dirty, a budget
// above one core or throttled more often than it ran, a bound verdict
// that is not one of BoundVerdicts, and histograms with a bad name or that
// do not decode. Write refuses a
// Result that fails it.
func (r *Result) Validate() error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("results: invalid result: %w", err)
	}
	return nil
}

// errVersion is the error for a schema version this package cannot read.
func errVersion(v any) error {
	return fmt.Errorf("unsupported schema_version %v (this build reads %d)", v, SchemaVersion)
}

// validate is Validate with errors its callers prefix.
func (r *Result) validate() error {
	if r.SchemaVersion != SchemaVersion {
		return errVersion(r.SchemaVersion)
	}
	c := &checker{}
	if r.Tool == "" {
		c.fail("tool: empty")
	}
	if r.StartedAt.IsZero() {
		c.fail("started_at: zero time")
	}
	c.nonNegative("duration_s", r.DurationS)
	c.config(&r.Config)
	c.provenance(&r.Provenance)
	c.server(&r.Server)
	if r.Client != nil {
		c.client(r.Client)
	}
	c.count("requests_total", r.RequestsTotal)
	c.nonNegative("throughput_rps", r.ThroughputRPS)
	c.nonNegative("connections_per_s", r.ConnectionsPerS)
	c.nonNegative("bytes_per_s", r.BytesPerS)
	c.errors(r.Errors, r.ErrorsTotal)
	c.dominant(r.Errors, r.DominantError)
	c.latency("latency_us", r.LatencyUS)
	if r.InterruptedReason != "" && !r.Interrupted {
		c.fail("interrupted_reason: set, but interrupted is false")
	}
	c.count("aborted_requests", r.AbortedRequests)
	c.series(r.Series)
	if s := r.SClient; s != nil {
		c.nonNegative("sclient.offered_conn_per_s", s.OfferedConnPerS)
		c.nonNegative("sclient.achieved_conn_per_s", s.AchievedConnPerS)
		c.count("sclient.aborted_connects", s.AbortedConnects)
	}
	if d := r.Disk; d != nil {
		c.disk(d)
	}
	if h := r.HostLoad; h != nil {
		c.hostLoad(h)
	}
	if b := r.Budget; b != nil {
		c.budget(b)
	}
	if b := r.Bound; b != nil {
		c.bound(b)
	}
	if o := r.OpenLoop; o != nil {
		c.nonNegative("open_loop.offered_rps", o.OfferedRPS)
		c.nonNegative("open_loop.achieved_rps", o.AchievedRPS)
		c.count("open_loop.late_sends", o.LateSends)
		c.latency("open_loop.uncorrected_latency_us", o.UncorrectedLatencyUS)
	}
	if c.err == nil {
		c.histograms(r.Histograms)
	}
	return c.err
}

// checker keeps the first validation failure, so checks read as a list.
type checker struct{ err error }

func (c *checker) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

// nonNegative checks a duration, rate or size: finite and >= 0.
func (c *checker) nonNegative(key string, v float64) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		c.fail("%s: not a finite number (%v)", key, v)
	case v < 0:
		c.fail("%s: negative (%v)", key, v)
	}
}

func (c *checker) count(key string, n int64) {
	if n < 0 {
		c.fail("%s: negative count (%d)", key, n)
	}
}

func (c *checker) config(cfg *Config) {
	c.count("config.connections", int64(cfg.Connections))
	c.count("config.threads", int64(cfg.Threads))
	c.nonNegative("config.duration_s", cfg.DurationS)
	c.nonNegative("config.warmup_s", cfg.WarmupS)
	c.count("config.requests_per_conn", int64(cfg.RequestsPerConn))
	c.count("config.pipeline", int64(cfg.Pipeline))
	c.nonNegative("config.rate_rps", cfg.RateRPS)
	c.nonNegative("config.timeout_s", cfg.TimeoutS)
}

func (c *checker) provenance(p *Provenance) {
	c.count("provenance.cpus", int64(p.CPUs))
	for i, cpu := range p.CorePinning.ServerCPUs {
		c.count(fmt.Sprintf("provenance.core_pinning.server_cpus[%d]", i), int64(cpu))
	}
	for i, cpu := range p.CorePinning.ClientCPUs {
		c.count(fmt.Sprintf("provenance.core_pinning.client_cpus[%d]", i), int64(cpu))
	}
	switch p.Topology {
	case "", TopologyLocal, TopologyNetns, TopologySSH:
	default:
		c.fail("provenance.topology: %q is not local, netns or ssh", p.Topology)
	}
	if p.GitModified != nil && (*p.GitModified || p.GitCommit == RevisionUnknown || p.GitCommit == RevisionMixed) && !p.Dirty {
		c.fail("provenance.dirty: false, but the build is not clean (git_commit %q, git_modified %t)", p.GitCommit, *p.GitModified)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Binaries)) {
		if p.Binaries[name].VCSRevision == "" {
			c.fail("provenance.binaries[%q].vcs_revision: empty (want a commit or %q)", name, RevisionUnknown)
		}
	}
}

func (c *checker) server(s *Server) {
	if s.CPUUserS != nil {
		c.nonNegative("server.cpu_user_s", *s.CPUUserS)
	}
	if s.CPUSystemS != nil {
		c.nonNegative("server.cpu_system_s", *s.CPUSystemS)
	}
	if s.PeakRSSBytes != nil {
		c.count("server.peak_rss_bytes", *s.PeakRSSBytes)
	}
}

func (c *checker) client(cl *Client) {
	c.nonNegative("client.cpu_user_s", cl.CPUUserS)
	c.nonNegative("client.cpu_system_s", cl.CPUSystemS)
	c.nonNegative("client.cpu_utilization", cl.CPUUtilization)
	if cl.CPUUtilization > 1 {
		c.fail("client.cpu_utilization: %v is above 1", cl.CPUUtilization)
	}
}

func (c *checker) errors(e Errors, total int64) {
	for _, class := range ErrorClasses() {
		n, _ := e.Count(class)
		c.count("errors."+string(class), n)
	}
	c.count("errors_total", total)
	if c.err != nil {
		return
	}
	sum, ok := e.sum()
	if !ok {
		c.fail("errors: counts sum past the int64 range")
		return
	}
	if sum != total {
		c.fail("errors_total: got %d, want %d (the sum of errors)", total, sum)
	}
}

// dominant checks that a dominant_error, when present, names a class that
// failed at least one request and no fewer than any other class.
func (c *checker) dominant(e Errors, d ErrorClass) {
	if d == "" {
		return
	}
	n, ok := e.Count(d)
	switch {
	case !ok:
		c.fail("dominant_error: unknown error class %q", d)
	case n == 0:
		c.fail("dominant_error: %q counts no error", d)
	case n < *e.counter(e.Dominant()):
		c.fail("dominant_error: %q (%d) is not the largest class, %q (%d) is", d, n, e.Dominant(), *e.counter(e.Dominant()))
	}
}

func (c *checker) latency(key string, l Latency) {
	ps := []struct {
		name string
		v    int64
	}{{"p50", l.P50}, {"p90", l.P90}, {"p99", l.P99}, {"p999", l.P999}, {"max", l.Max}}
	for i, p := range ps {
		c.count(key+"."+p.name, p.v)
		if i > 0 && p.v < ps[i-1].v {
			c.fail("%s: percentiles not monotone: %s (%d) < %s (%d)",
				key, p.name, p.v, ps[i-1].name, ps[i-1].v)
		}
	}
	c.nonNegative(key+".mean", l.Mean)
}

func (c *checker) series(s []Interval) {
	for i, iv := range s {
		key := fmt.Sprintf("series[%d]", i)
		c.nonNegative(key+".t_s", iv.TS)
		c.count(key+".requests", iv.Requests)
		c.nonNegative(key+".throughput_rps", iv.ThroughputRPS)
		c.count(key+".p99_us", iv.P99US)
		c.count(key+".errors", iv.Errors)
		if i > 0 && !(iv.TS > s[i-1].TS) {
			c.fail("%s.t_s: %v does not follow %v", key, iv.TS, s[i-1].TS)
		}
	}
}

func (c *checker) histograms(hs map[string]string) {
	for _, name := range slices.Sorted(maps.Keys(hs)) {
		s := hs[name]
		if !histogramName.MatchString(name) {
			c.fail("histograms: invalid name %q (want total, connect, ttfb, uncorrected or class_N)", name)
			continue
		}
		if _, err := decodeHistogram(s); err != nil {
			c.fail("histograms[%q]: does not decode: %w", name, err)
		}
	}
}

func (c *checker) disk(d *Disk) {
	if d.Model == "" {
		c.fail("disk.model: empty")
	}
	if d.Channels < 1 {
		c.fail("disk.channels: %d, want at least 1", d.Channels)
	}
	c.nonNegative("disk.latency_us", d.LatencyUS)
	c.count("disk.bytes_per_s", d.BytesPerS)
	c.count("disk.reads", d.Reads)
	c.count("disk.read_bytes", d.ReadBytes)
	c.nonNegative("disk.busy_s", d.BusyS)
	c.nonNegative("disk.mean_in_flight", d.MeanInFlight)
	c.count("disk.max_in_flight", int64(d.MaxInFlight))
}

func (c *checker) hostLoad(h *HostLoad) {
	c.nonNegative("host_load.load_average_1m_start", h.LoadAverage1mStart)
	c.nonNegative("host_load.load_average_1m_end", h.LoadAverage1mEnd)
	c.nonNegative("host_load.load_average_1m_max", h.LoadAverage1mMax)
	c.nonNegative("host_load.load_average_1m_mean", h.LoadAverage1mMean)
	c.nonNegative("host_load.cpu_steal_fraction", h.CPUStealFraction)
	if h.CPUStealFraction > 1 {
		c.fail("host_load.cpu_steal_fraction: %v is above 1", h.CPUStealFraction)
	}
	for _, v := range []struct {
		key string
		v   float64
	}{{"start", h.LoadAverage1mStart}, {"end", h.LoadAverage1mEnd}, {"mean", h.LoadAverage1mMean}} {
		if v.v > h.LoadAverage1mMax {
			c.fail("host_load.load_average_1m_%s: %v is above load_average_1m_max %v", v.key, v.v, h.LoadAverage1mMax)
		}
	}
}
