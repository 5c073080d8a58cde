// Package results defines the JSON document every flashbench tool writes for
// one run and every other tool reads: its Go types, the JSON Schema that
// describes them (Schema), validation, HdrHistogram encoding helpers and an
// atomic file writer.
//
// A document is self-describing: it carries its schema version, the full
// configuration needed to rerun it, the provenance of the machine it ran on,
// and the raw latency histograms, so percentiles can be recomputed and runs
// merged later by any HdrHistogram implementation.
package results

import (
	"fmt"
	"strings"
	"time"
)

// SchemaVersion is the version of the result document this package writes and
// the only one it reads. Any change to a key's name, type or meaning bumps it;
// adding an optional key does not, as earlier documents stay valid.
const SchemaVersion = 1

// Result is one run's document. Every key is required except the optional
// ones (interrupted_reason, aborted_requests, dominant_error, note,
// open_loop, sclient, disk, host_load, client, budget, bound, and the
// optional keys of provenance and server, each added within schema version
// 1 and omitted when unused or not measured); Decode rejects documents
// with missing or unknown keys.
type Result struct {
	SchemaVersion int        `json:"schema_version"`
	Tool          string     `json:"tool"`
	StartedAt     time.Time  `json:"started_at"`
	DurationS     float64    `json:"duration_s"`
	Config        Config     `json:"config"`
	Provenance    Provenance `json:"provenance"`
	Server        Server     `json:"server"`
	// Client is what the load generator consumed. Optional: omitted when
	// its CPU use is not this run's alone (a soak interval, whose load
	// generators share one process with every other interval's).
	Client *Client `json:"client,omitempty"`

	RequestsTotal   int64   `json:"requests_total"`
	ThroughputRPS   float64 `json:"throughput_rps"`
	ConnectionsPerS float64 `json:"connections_per_s"`
	BytesPerS       float64 `json:"bytes_per_s"`
	Errors          Errors  `json:"errors"`
	ErrorsTotal     int64   `json:"errors_total"`
	// DominantError is the class that failed the most requests (Errors.
	// Dominant), so a script can tell at once what went wrong: a server
	// that refused connections, reset them, or cut responses short.
	// Optional; omitted when no request failed.
	DominantError ErrorClass `json:"dominant_error,omitempty"`
	LatencyUS     Latency    `json:"latency_us"`

	// Histograms maps a histogram name ("total", "connect", "ttfb",
	// "uncorrected", "class_N") to its V2 compressed base64 encoding,
	// values in µs.
	Histograms Map[string] `json:"histograms"`

	Interrupted       bool   `json:"interrupted"`
	InterruptedReason string `json:"interrupted_reason,omitempty"`
	// AbortedRequests counts requests still in flight when the run ended
	// (interrupted, or past its drain deadline) and abandoned: neither
	// completed nor errors. Optional; omitted when zero.
	AbortedRequests int64 `json:"aborted_requests,omitempty"`
	// Note says in one line what went wrong with the run, for a reader:
	// the errors and what they suggest (the server refused connections,
	// stopped answering, closed them mid-response, exited, ...). Optional;
	// omitted when nothing did.
	Note string `json:"note,omitempty"`

	Series   List[Interval] `json:"series"`
	OpenLoop *OpenLoop      `json:"open_loop,omitempty"`
	// SClient is set for S-Client runs only (connection attempts aborted
	// after a timeout so the offered load can exceed capacity).
	SClient *SClient `json:"sclient,omitempty"`
	// Disk is set when the file set was served from a model of a slow
	// storage device (a disk-bound harness experiment).
	Disk *Disk `json:"disk,omitempty"`
	// HostLoad is how busy the load generator's machine was during the
	// measurement, so that a run on a noisy machine shows as noisy.
	// Optional; omitted when /proc could not be read.
	HostLoad *HostLoad `json:"host_load,omitempty"`
	// Budget is the server's CPU budget and its use of it, and Bound what
	// bounded the point (budget.go); the harness sets both.
	Budget *Budget `json:"budget,omitempty"`
	Bound  *Bound  `json:"bound,omitempty"`
}

// Config is everything needed to rerun the measurement. Parameters the fixed
// keys do not cover (file set, architecture sweep values, ...) go in Extra.
type Config struct {
	Targets         List[string] `json:"targets"`
	Connections     int          `json:"connections"`
	Threads         int          `json:"threads"`
	DurationS       float64      `json:"duration_s"`
	WarmupS         float64      `json:"warmup_s"`
	RequestsPerConn int          `json:"requests_per_conn"`
	Pipeline        int          `json:"pipeline"`
	RateRPS         float64      `json:"rate_rps"`
	TimeoutS        float64      `json:"timeout_s"`
	Workload        string       `json:"workload"`
	ManifestPath    string       `json:"manifest_path"`
	URLsPath        string       `json:"urls_path"`
	TracePath       string       `json:"trace_path"`
	Verify          bool         `json:"verify"`
	Extra           Object       `json:"extra"`
}

// Topologies a run can use; Provenance.Topology is one of them, or empty when
// a tool ran outside the harness and cannot know.
const (
	TopologyLocal = "local"
	TopologyNetns = "netns"
	TopologySSH   = "ssh"
)

// Provenance records where and from what the run was made, so numbers from
// different machines or builds are never compared unknowingly.
type Provenance struct {
	// GitCommit is the commit the run's binaries were built from, as their
	// build information records it (vcs.revision): "unknown" when a binary
	// carries none (built outside a git checkout, by go run or go test, or
	// with -buildvcs=false), "mixed" when they name different commits.
	// Documents written before Binaries was added took it from the working
	// directory's checkout, with "-dirty" for uncommitted changes.
	GitCommit string `json:"git_commit"`
	// GitModified reports that a binary was built from a tree with
	// uncommitted changes (vcs.modified). Optional: omitted by documents
	// written before it was added.
	GitModified *bool       `json:"git_modified,omitempty"`
	GoVersion   string      `json:"go_version"`
	Kernel      string      `json:"kernel"`
	CPUModel    string      `json:"cpu_model"`
	CPUs        int         `json:"cpus"`
	CorePinning CorePinning `json:"core_pinning"`
	Topology    string      `json:"topology"`
	Hostname    string      `json:"hostname"`
	Sysctls     Map[string] `json:"sysctls"`
	// Dirty marks a document whose binaries do not all come from one
	// commit without uncommitted changes (GitCommit unknown or mixed, or
	// GitModified). The harness archives such a run into the checkout's
	// results/ only when told to (--allow-dirty). Optional; omitted when
	// false.
	Dirty bool `json:"dirty,omitempty"`
	// Binaries are the build information of every program of the run,
	// by name (harness, webserver, loadgen, ...). Optional.
	Binaries Map[Binary] `json:"binaries,omitempty"`
	// BaseBinaries are the build information of the base build's
	// programs, by name, when the run compared one (harness run --base):
	// their commit is the base's, so it counts neither in GitCommit nor
	// against Binaries'. A base build not clean makes the document Dirty.
	// Optional; omitted when the run compared none.
	BaseBinaries Map[Binary] `json:"base_binaries,omitempty"`
	// Tools are the versions of the programs not built from this
	// repository that the run used (the real servers: nginx, apache2,
	// lighttpd), by program name, as their -v option prints them.
	// Optional; omitted when the run used none.
	Tools Map[string] `json:"tools,omitempty"`
}

// Revisions that are not a commit, in Provenance.GitCommit and
// Binary.VCSRevision.
const (
	RevisionUnknown = "unknown"
	RevisionMixed   = "mixed"
)

// Clean reports whether p names one commit its binaries were all built
// from, without uncommitted changes. A document written before GitModified
// was added is clean when its GitCommit is a commit without "-dirty".
func (p *Provenance) Clean() bool {
	switch {
	case p.Dirty, p.GitModified != nil && *p.GitModified:
		return false
	case p.GitCommit == "" || p.GitCommit == RevisionUnknown || p.GitCommit == RevisionMixed:
		return false
	}
	return !strings.HasSuffix(p.GitCommit, "-dirty")
}

// Binary is the build information of one program (runtime/debug.BuildInfo).
type Binary struct {
	// Path is the file the program was read from ("" for the running
	// program itself when its file cannot be named).
	Path      string `json:"path"`
	GoVersion string `json:"go_version"`
	// VCSRevision is the commit it was built from, or "unknown" when its
	// build carries no version-control information.
	VCSRevision string `json:"vcs_revision"`
	// VCSModified reports uncommitted changes in the tree it was built
	// from; omitted when unknown.
	VCSModified *bool `json:"vcs_modified,omitempty"`
	// VCSTime is the commit's time (RFC 3339); omitted when unknown.
	VCSTime string `json:"vcs_time,omitempty"`
}

// CorePinning lists the CPUs server and client were pinned to; an empty list
// means not pinned.
type CorePinning struct {
	ServerCPUs List[int] `json:"server_cpus"`
	ClientCPUs List[int] `json:"client_cpus"`
}

// Server is what the server under test consumed during the measurement.
// Its CPU times and peak memory are optional: omitted when they were not
// measured (a load generator on its own, a soak interval), never written
// as 0.
type Server struct {
	Arch         string   `json:"arch"`
	CPUUserS     *float64 `json:"cpu_user_s,omitempty"`
	CPUSystemS   *float64 `json:"cpu_system_s,omitempty"`
	PeakRSSBytes *int64   `json:"peak_rss_bytes,omitempty"`
	// Stats is the server's own stats file, copied verbatim.
	Stats Object `json:"stats"`
}

// Client is what the load generator consumed. Saturated flags a run whose
// client, not the server, may have been the bottleneck.
type Client struct {
	CPUUserS   float64 `json:"cpu_user_s"`
	CPUSystemS float64 `json:"cpu_system_s"`
	// CPUUtilization is CPU time over wall time times the cores the client
	// used: 0..1, where 1 means every used core was busy all the time.
	CPUUtilization float64 `json:"cpu_utilization"`
	Saturated      bool    `json:"saturated"`
}

// Latency is a percentile summary in microseconds. Percentiles are
// HdrHistogram values (highest equivalent value of their bucket).
type Latency struct {
	P50  int64   `json:"p50"`
	P90  int64   `json:"p90"`
	P99  int64   `json:"p99"`
	P999 int64   `json:"p999"`
	Max  int64   `json:"max"`
	Mean float64 `json:"mean"`
}

// Interval is one second of the run's time series. TS is the end of the
// interval in seconds since the measurement (after warm-up) started.
type Interval struct {
	TS            float64 `json:"t_s"`
	Requests      int64   `json:"requests"`
	ThroughputRPS float64 `json:"throughput_rps"`
	P99US         int64   `json:"p99_us"`
	Errors        int64   `json:"errors"`
}

// OpenLoop holds what only an open-loop run measures. The top-level
// latency_us of such a run is corrected for coordinated omission (measured
// from the intended send time); UncorrectedLatencyUS is measured from the
// actual send time.
type OpenLoop struct {
	OfferedRPS           float64 `json:"offered_rps"`
	AchievedRPS          float64 `json:"achieved_rps"`
	LateSends            int64   `json:"late_sends"`
	UncorrectedLatencyUS Latency `json:"uncorrected_latency_us"`
}

// SClient holds what only an S-Client run measures (Banga and Druschel): the
// connection rate offered, counting aborted attempts, the rate achieved, and
// the attempts aborted because they were not established in time.
type SClient struct {
	OfferedConnPerS  float64 `json:"offered_conn_per_s"`
	AchievedConnPerS float64 `json:"achieved_conn_per_s"`
	AbortedConnects  int64   `json:"aborted_connects"`
}

// Disk is the storage device a run's file set was served from, a model
// (Model names it: "slowdisk", a FUSE file system in which every read that
// misses the page cache waits LatencyUS plus its transfer time at
// BytesPerS, with at most Channels reads served at once), and what the
// device did during the measurement: the reads that reached it, how long
// it was busy (at least one read in flight), the time-weighted mean of the
// reads in flight while it was busy, and the most at any instant.
type Disk struct {
	Model     string  `json:"model"`
	LatencyUS float64 `json:"latency_us"`
	// BytesPerS is one channel's transfer rate; 0 when transfers take no time.
	BytesPerS    int64   `json:"bytes_per_s"`
	Channels     int     `json:"channels"`
	Reads        int64   `json:"reads"`
	ReadBytes    int64   `json:"read_bytes"`
	BusyS        float64 `json:"busy_s"`
	MeanInFlight float64 `json:"mean_in_flight"`
	MaxInFlight  int     `json:"max_in_flight"`
}

// HostLoad is how busy the machine was over a measurement: the 1-minute
// load average (/proc/loadavg) when it began and ended, and its largest
// and mean value sampled about once a second in between; and the share
// of the CPU time that the hypervisor gave to other guests (the steal
// column of /proc/stat over its total), 0..1.
type HostLoad struct {
	LoadAverage1mStart float64 `json:"load_average_1m_start"`
	LoadAverage1mEnd   float64 `json:"load_average_1m_end"`
	LoadAverage1mMax   float64 `json:"load_average_1m_max"`
	LoadAverage1mMean  float64 `json:"load_average_1m_mean"`
	CPUStealFraction   float64 `json:"cpu_steal_fraction"`
}

// NoisyStealFraction is the CPU steal from which a measurement counts as
// noisy: other guests of the hypervisor took CPU time from it.
const NoisyStealFraction = 0.01

// Noisy says why the machine, with cpus CPUs, was too busy for the
// measurement's numbers to be taken at face value, or "": its load
// average went above its CPUs (more runnable threads than CPUs, so the
// server and the client waited for one), or the hypervisor stole at
// least NoisyStealFraction of its CPU time.
func (h *HostLoad) Noisy(cpus int) string {
	var why []string
	if cpus > 0 && h.LoadAverage1mMax > float64(cpus) {
		why = append(why, fmt.Sprintf("load average up to %.2f on %d CPUs", h.LoadAverage1mMax, cpus))
	}
	if h.CPUStealFraction >= NoisyStealFraction {
		why = append(why, fmt.Sprintf("%.1f%% of the CPU time stolen", 100*h.CPUStealFraction))
	}
	return strings.Join(why, ", ")
}

// String is the load in one line: "load average (1 min) 1.20 to 3.40, max
// 3.40, mean 2.10; CPU steal 0.0%".
func (h *HostLoad) String() string {
	return fmt.Sprintf("load average (1 min) %.2f to %.2f, max %.2f, mean %.2f; CPU steal %.1f%%",
		h.LoadAverage1mStart, h.LoadAverage1mEnd, h.LoadAverage1mMax, h.LoadAverage1mMean, 100*h.CPUStealFraction)
}

// WorstHostLoad returns the higher of a's and b's figures, figure by
// figure, as a new HostLoad: the load of several measurements (several
// client machines, a run's trials) at its worst. Either may be nil.
func WorstHostLoad(a, b *HostLoad) *HostLoad {
	switch {
	case a == nil && b == nil:
		return nil
	case a == nil:
		a = &HostLoad{}
	case b == nil:
		b = &HostLoad{}
	}
	return &HostLoad{
		LoadAverage1mStart: max(a.LoadAverage1mStart, b.LoadAverage1mStart),
		LoadAverage1mEnd:   max(a.LoadAverage1mEnd, b.LoadAverage1mEnd),
		LoadAverage1mMax:   max(a.LoadAverage1mMax, b.LoadAverage1mMax),
		LoadAverage1mMean:  max(a.LoadAverage1mMean, b.LoadAverage1mMean),
		CPUStealFraction:   max(a.CPUStealFraction, b.CPUStealFraction),
	}
}
