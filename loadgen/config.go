package loadgen

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"time"
)

// Arrival models.
const (
	// ArrivalClosed is the closed loop: each connection keeps its requests
	// outstanding and sends the next one when a response completes.
	ArrivalClosed = "closed"
	// ArrivalConstant is an open loop with evenly spaced arrivals.
	ArrivalConstant = "constant"
	// ArrivalPoisson is an open loop with exponentially distributed gaps.
	ArrivalPoisson = "poisson"
)

// LateThreshold is how far behind its intended time a send may go out in an
// open-loop run before it counts as late.
const LateThreshold = time.Millisecond

// Config is everything a run needs. The zero value of each optional field
// means the documented default; Run validates the whole.
type Config struct {
	// URL is the target, http://host:port/path. With a workload file its
	// scheme, host and port say where to send and its path is ignored.
	URL string
	// Connections is the number of concurrent connections (clients).
	Connections int
	// Threads is the number of workers, each on its own OS thread (default 1).
	Threads int
	// Duration is how long to measure, after Warmup. With Requests set and
	// Duration zero, the run ends when Requests have been sent.
	Duration time.Duration
	// Warmup runs load that is not measured before the measurement starts.
	Warmup time.Duration
	// Requests, when positive, ends the run after that many requests are
	// sent in the measurement period.
	Requests int64
	// RequestsPerConn is K: requests on a connection before the client
	// closes it; 1 is the HTTP/1.0 style of the papers, 0 is unlimited.
	RequestsPerConn int
	// Pipeline is the number of requests outstanding per connection (1 = none).
	Pipeline int
	// ThinkTime is the pause of a closed-loop client between requests.
	ThinkTime time.Duration
	// Arrival is ArrivalClosed (default), ArrivalConstant or ArrivalPoisson.
	Arrival string
	// Rate is the open-loop arrival rate in requests per second.
	Rate float64
	// Timeout bounds a request from its start to its last byte (default 5s).
	Timeout time.Duration
	// ConnectTimeout bounds a connection attempt (default Timeout).
	ConnectTimeout time.Duration
	// SClient aborts connection attempts not established within
	// ConnectTimeout and re-issues them (Banga and Druschel's S-Client).
	SClient bool
	// Workload says what to request; nil means the path of URL.
	Workload Workload
	// Verify checks bodies against the workload's checksums.
	Verify bool
	// Sources are the local addresses to bind, cycled. Nil binds none; on
	// a loopback target that closes connections (RequestsPerConn > 0) it
	// means 127.0.0.1 to 127.0.0.254 once the ephemeral ports run out.
	Sources []netip.Addr
	// CloseWithReset closes connections with SO_LINGER 0 (RST, no TIME_WAIT).
	CloseWithReset bool
	// Seed makes workload sampling and Poisson arrivals repeatable.
	Seed uint64
	// Progress, when set, is called about once a second during the run.
	Progress func(Progress)
}

// Progress is a live view of a run, for a terminal display.
type Progress struct {
	Elapsed  time.Duration
	Requests int64
	Errors   int64
	Rate     float64
	Warmup   bool
}

// target is the parsed form of Config.URL.
type target struct {
	host string // Host header value
	path string
	addr netip.AddrPort
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("loadgen: bad url %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return target{}, fmt.Errorf("loadgen: bad url %q: scheme must be http", raw)
	}
	host, portStr := u.Hostname(), u.Port()
	if portStr == "" {
		portStr = "80"
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return target{}, fmt.Errorf("loadgen: bad url %q: host must be an IP address", raw)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return target{}, fmt.Errorf("loadgen: bad url %q: bad port", raw)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return target{host: u.Host, path: path, addr: netip.AddrPortFrom(ip.Unmap(), uint16(port))}, nil
}

// Validate reports what Run would refuse cfg for, without running
// anything: a caller checks its input with it before it says a run starts.
func (cfg Config) Validate() error {
	_, _, err := cfg.prepare()
	return err
}

// prepare is what Run does before it sends anything: it parses the URL,
// gives cfg its default workload (the URL's path) and its defaults, and
// validates the whole.
func (cfg Config) prepare() (Config, target, error) {
	t, err := parseTarget(cfg.URL)
	if err != nil {
		return cfg, t, err
	}
	if cfg.Workload == nil {
		cfg.Workload = NewSingle(t.path)
	}
	cfg, err = cfg.withDefaults()
	return cfg, t, err
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Threads == 0 {
		c.Threads = 1
	}
	if c.Pipeline == 0 {
		c.Pipeline = 1
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = c.Timeout
	}
	if c.Arrival == "" {
		c.Arrival = ArrivalClosed
		if c.Rate > 0 {
			c.Arrival = ArrivalConstant
		}
	}
	if err := c.validate(); err != nil {
		return c, fmt.Errorf("loadgen: %w", err)
	}
	if c.Threads > c.Connections {
		c.Threads = c.Connections
	}
	return c, nil
}

func (c Config) validate() error {
	switch {
	case c.Connections <= 0:
		return fmt.Errorf("connections must be at least 1, got %d", c.Connections)
	case c.Threads < 0 || c.Threads > 4*runtime.NumCPU()+64:
		return fmt.Errorf("threads out of range: %d", c.Threads)
	case c.Duration < 0 || c.Warmup < 0 || c.ThinkTime < 0 || c.Timeout < 0 || c.ConnectTimeout < 0:
		return errors.New("durations must not be negative")
	case c.Duration == 0 && c.Requests <= 0:
		return errors.New("need a duration or a request count")
	case c.RequestsPerConn < 0:
		return fmt.Errorf("requests per connection must be 0 (unlimited) or more, got %d", c.RequestsPerConn)
	case c.Pipeline < 1:
		return fmt.Errorf("pipeline must be at least 1, got %d", c.Pipeline)
	case c.Pipeline > 1 && c.RequestsPerConn == 1:
		return errors.New("pipelining needs more than one request per connection")
	case math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		// A result document cannot hold one (JSON has no NaN or Inf), and
		// no pacer can send at it.
		return fmt.Errorf("rate must be a finite number of requests/s, got %g", c.Rate)
	case c.Arrival != ArrivalClosed && c.Arrival != ArrivalConstant && c.Arrival != ArrivalPoisson:
		return fmt.Errorf("unknown arrival model %q", c.Arrival)
	case c.Arrival != ArrivalClosed && c.Rate <= 0:
		return fmt.Errorf("open loop needs a positive rate, got %g", c.Rate)
	case c.Arrival == ArrivalClosed && c.Rate != 0:
		return errors.New("a rate needs an open-loop arrival model")
	case c.Arrival != ArrivalClosed && c.Pipeline > 1:
		return errors.New("open loop does not pipeline")
	case c.Verify && (c.Workload == nil || !c.Workload.Verifiable()):
		return errors.New("verify needs a manifest workload")
	}
	return nil
}
