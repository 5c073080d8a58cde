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

import "time"

// SchemaVersion is the version of the result document this package writes and
// the only one it reads. Any change to a key's name, type or meaning bumps it;
// adding an optional key does not, as earlier documents stay valid.
const SchemaVersion = 1

// Result is one run's document. Every key is required except the optional
// ones (interrupted_reason, aborted_requests, dominant_error, note,
// open_loop, sclient, disk, budget, bound, each added within schema
// version 1 and omitted when unused); Decode rejects documents with missing or unknown keys.
type Result struct {
	SchemaVersion int        `json:"schema_version"`
	Tool          string     `json:"tool"`
	StartedAt     time.Time  `json:"started_at"`
	DurationS     float64    `json:"duration_s"`
	Config        Config     `json:"config"`
	Provenance    Provenance `json:"provenance"`
	Server        Server     `json:"server"`
	Client        Client     `json:"client"`

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
	GitCommit   string      `json:"git_commit"`
	GoVersion   string      `json:"go_version"`
	Kernel      string      `json:"kernel"`
	CPUModel    string      `json:"cpu_model"`
	CPUs        int         `json:"cpus"`
	CorePinning CorePinning `json:"core_pinning"`
	Topology    string      `json:"topology"`
	Hostname    string      `json:"hostname"`
	Sysctls     Map[string] `json:"sysctls"`
}

// CorePinning lists the CPUs server and client were pinned to; an empty list
// means not pinned.
type CorePinning struct {
	ServerCPUs List[int] `json:"server_cpus"`
	ClientCPUs List[int] `json:"client_cpus"`
}

// Server is what the server under test consumed during the measurement.
type Server struct {
	Arch         string  `json:"arch"`
	CPUUserS     float64 `json:"cpu_user_s"`
	CPUSystemS   float64 `json:"cpu_system_s"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
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
