package loadgen

import (
	"flashbench/internal/provenance"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// WriteSummary prints a human summary in the spirit of wrk's: the models,
// the latency percentiles, throughput, errors by class and the client's CPU.
func WriteSummary(w io.Writer, r *Report) error {
	c := &r.Config
	var b strings.Builder
	fmt.Fprintf(&b, "  %d threads and %d connections, %s\n", c.Threads, c.Connections, models(c))
	fmt.Fprintf(&b, "  %-10s %9s %9s %9s %9s %9s %9s\n", "Latency", "p50", "p90", "p99", "p99.9", "max", "mean")
	row := func(name string, h *hdrhistogram.Histogram) {
		if h == nil || h.TotalCount() == 0 {
			return
		}
		fmt.Fprintf(&b, "  %-10s %9s %9s %9s %9s %9s %9s\n", name,
			us(h.ValueAtQuantile(50)), us(h.ValueAtQuantile(90)), us(h.ValueAtQuantile(99)),
			us(h.ValueAtQuantile(99.9)), us(h.Max()), us(int64(h.Mean())))
	}
	row("total", r.Latency)
	if c.Arrival != ArrivalClosed {
		row("uncorr.", r.Uncorrected)
	}
	row("connect", r.Connect)
	row("ttfb", r.TTFB)
	for i, h := range r.Histograms.Classes {
		if i < len(r.Classes) {
			row(r.Classes[i], h)
		}
	}
	fmt.Fprintf(&b, "  %d requests in %s, %s read\n", r.Requests, r.Elapsed.Round(time.Millisecond), size(float64(r.Bytes)))
	fmt.Fprintf(&b, "Requests/sec: %12.2f\n", r.Throughput())
	fmt.Fprintf(&b, "Connections/sec: %9.2f\n", perSecond(r.Connections, r.Elapsed))
	fmt.Fprintf(&b, "Transfer/sec: %12s\n", size(float64(r.Bytes)/max(r.Elapsed.Seconds(), 1e-9)))
	if c.Arrival != ArrivalClosed {
		fmt.Fprintf(&b, "Open loop: offered %.2f req/s, late sends %d\n", c.Rate, r.Late)
	}
	if c.SClient {
		fmt.Fprintf(&b, "S-Client: offered %.2f conn/s, achieved %.2f conn/s, %d attempts aborted\n",
			perSecond(r.ConnectAttempt, r.Elapsed), perSecond(r.Connections, r.Elapsed), r.AbortedConnects)
	}
	if tr, ok := c.Workload.(*Trace); ok {
		b.WriteString(traceLine(tr, r) + "\n")
	}
	b.WriteString("Errors: " + errorLine(&r.Errors) + "\n")
	sat := ""
	if r.CPU.Saturated {
		sat = "  SATURATED: the client may have been the bottleneck"
	}
	fmt.Fprintf(&b, "Client CPU: user %.2fs, system %.2fs, %.0f%% of %d core(s)%s\n",
		r.CPU.User.Seconds(), r.CPU.System.Seconds(), 100*r.CPU.Utilization, r.CPU.Cores, sat)
	if h := r.HostLoad; h != nil {
		noisy := ""
		if why := h.Noisy(provenance.OnlineCPUs()); why != "" {
			noisy = "  NOISY: " + why
		}
		fmt.Fprintf(&b, "Host: %s%s\n", h, noisy)
	}
	if r.Interrupted {
		fmt.Fprintf(&b, "Interrupted (%s); %d requests in flight abandoned\n", r.InterruptedReason, r.Aborted)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func models(c *Config) string {
	var parts []string
	switch c.RequestsPerConn {
	case 0:
		parts = append(parts, "keep-alive")
	case 1:
		parts = append(parts, "one request per connection")
	default:
		parts = append(parts, fmt.Sprintf("%d requests per connection", c.RequestsPerConn))
	}
	if c.Pipeline > 1 {
		parts = append(parts, fmt.Sprintf("pipeline %d", c.Pipeline))
	}
	if c.Arrival == ArrivalClosed {
		parts = append(parts, "closed loop")
	} else {
		parts = append(parts, fmt.Sprintf("open loop (%s, %g req/s)", c.Arrival, c.Rate))
	}
	return strings.Join(parts, ", ")
}

func errorLine(e *Errors) string {
	if e.Total() == 0 {
		return "none"
	}
	var parts []string
	for i, n := range e {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", ErrorClass(i), n))
		}
	}
	return fmt.Sprintf("%d (%s)", e.Total(), strings.Join(parts, ", "))
}

// us formats microseconds with a readable unit.
func us(v int64) string {
	switch {
	case v >= 1_000_000:
		return fmt.Sprintf("%.2fs", float64(v)/1e6)
	case v >= 1000:
		return fmt.Sprintf("%.2fms", float64(v)/1e3)
	}
	return fmt.Sprintf("%dus", v)
}

func size(n float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%.2f%s", n, units[i])
}

// traceLine says how much of a trace the measurement sent and what the
// warm-up took: a pass of its own, never a part of the measured trace.
func traceLine(tr *Trace, r *Report) string {
	s := fmt.Sprintf("Trace: %d of its %d requests sent in the measurement, from its start; ", tr.Sent(), tr.Len())
	if r.Config.Warmup == 0 {
		return s + "no warm-up"
	}
	return s + fmt.Sprintf("the warm-up made a pass of its own (%d requests from the start, not measured)", r.WarmupRequests)
}
