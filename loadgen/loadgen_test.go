package loadgen_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"flashbench/fileset"
	"flashbench/loadgen"
	"flashbench/results"
)

// models are the connection and arrival models every count test runs.
var models = []struct {
	name string
	cfg  loadgen.Config
}{
	{"one request per connection", loadgen.Config{Connections: 8, RequestsPerConn: 1}},
	{"keep-alive K=5", loadgen.Config{Connections: 8, RequestsPerConn: 5}},
	{"keep-alive unlimited", loadgen.Config{Connections: 8, RequestsPerConn: 0}},
	{"pipelined P=4", loadgen.Config{Connections: 4, RequestsPerConn: 0, Pipeline: 4}},
	{"pipelined K=10 P=3", loadgen.Config{Connections: 4, RequestsPerConn: 10, Pipeline: 3}},
	{"two threads", loadgen.Config{Connections: 8, Threads: 2, RequestsPerConn: 3}},
	{"open loop constant", loadgen.Config{Connections: 8, RequestsPerConn: 1, Rate: 400}},
	{"open loop poisson keep-alive", loadgen.Config{Connections: 8, Arrival: loadgen.ArrivalPoisson, Rate: 400}},
	{"think time", loadgen.Config{Connections: 4, RequestsPerConn: 0, ThinkTime: time.Millisecond}},
}

func runLoad(t *testing.T, cfg loadgen.Config) *loadgen.Report {
	t.Helper()
	if cfg.Duration == 0 && cfg.Requests == 0 {
		cfg.Duration = 500 * time.Millisecond
	}
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run(%+v): %v", cfg, err)
	}
	return rep
}

func TestCountsMatchGoServer(t *testing.T) {
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, 0)
			cfg := m.cfg
			cfg.URL = ts.URL + "/size/500"
			rep := runLoad(t, cfg)
			if got, want := rep.Requests, ts.requests.Load(); got != want || got == 0 {
				t.Errorf("requests: got %d, want %d (the server's count, > 0)", got, want)
			}
			if n := rep.Errors.Total(); n != 0 {
				t.Errorf("errors: got %v, want none", rep.Errors)
			}
			if got, want := rep.Latency.TotalCount(), rep.Requests; got != want {
				t.Errorf("latency samples: got %d, want %d", got, want)
			}
			checkResult(t, rep)
		})
	}
}

func TestCountsMatchNginx(t *testing.T) {
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			ng := startNginx(t, map[string]int{"small": 500, "big": 50 << 10})
			cfg := m.cfg
			cfg.URL = ng.URL + "/big"
			rep := runLoad(t, cfg)
			if got, want := rep.Requests, ng.requests(t); got != want || got == 0 {
				t.Errorf("requests: got %d, want %d (nginx's access log, > 0)", got, want)
			}
			if n := rep.Errors.Total(); n != 0 {
				t.Errorf("errors: got %v, want none", rep.Errors)
			}
		})
	}
}

// checkResult converts the report to a result document and reads it back.
func checkResult(t *testing.T, rep *loadgen.Report) *results.Result {
	t.Helper()
	res, err := rep.Result(loadgen.Paths{})
	if err != nil {
		t.Fatalf("Result: %v", err)
	}
	path := filepath.Join(t.TempDir(), "run.json")
	if err := results.Write(path, res); err != nil {
		t.Fatalf("results.Write: %v", err)
	}
	back, err := results.Read(path)
	if err != nil {
		t.Fatalf("results.Read: %v", err)
	}
	if back.RequestsTotal != rep.Requests {
		t.Errorf("requests_total: got %d, want %d", back.RequestsTotal, rep.Requests)
	}
	return back
}

func TestRequestCount(t *testing.T) {
	ts := startServer(t, 0)
	rep := runLoad(t, loadgen.Config{URL: ts.URL, Connections: 4, Threads: 2, Requests: 301, RequestsPerConn: 0})
	if rep.Requests != 301 || ts.requests.Load() != 301 {
		t.Errorf("requests: got %d (server %d), want 301", rep.Requests, ts.requests.Load())
	}
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		path  string
		class loadgen.ErrorClass
	}{
		{"/missing", loadgen.BadStatus},
		{"/close", loadgen.ShortBody},
	}
	for _, tt := range tests {
		t.Run(tt.class.String(), func(t *testing.T) {
			ts := startServer(t, 0)
			rep := runLoad(t, loadgen.Config{URL: ts.URL + tt.path, Connections: 2, Requests: 20, RequestsPerConn: 1})
			if got := rep.Errors[tt.class]; got != 20 {
				t.Errorf("%s errors: got %d, want 20 (all: %v)", tt.class, got, rep.Errors)
			}
		})
	}
	t.Run("connect_refused", func(t *testing.T) {
		port := freePort(t)
		rep := runLoad(t, loadgen.Config{URL: fmt.Sprintf("http://127.0.0.1:%d/", port), Connections: 2,
			Duration: 200 * time.Millisecond, Timeout: time.Second})
		if rep.Errors[loadgen.ConnectRefused] == 0 || rep.Requests != 0 {
			t.Errorf("got %d refused, %d requests; want > 0 refused, 0 requests", rep.Errors[loadgen.ConnectRefused], rep.Requests)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		ts := startServer(t, time.Second)
		for i := 0; i < 21; i++ {
			ts.requests.Add(1) // the next /stall request stalls
		}
		rep := runLoad(t, loadgen.Config{URL: ts.URL + "/stall", Connections: 1, RequestsPerConn: 0,
			Duration: 300 * time.Millisecond, Timeout: 100 * time.Millisecond})
		// The stalled request times out; on a busy machine another
		// request may take 100 ms too.
		if rep.Errors[loadgen.Timeout] < 1 || rep.Errors.Total() != rep.Errors[loadgen.Timeout] {
			t.Errorf("timeouts: got %d, want at least 1 and no other error (all: %v)", rep.Errors[loadgen.Timeout], rep.Errors)
		}
	})
}

// TestCoordinatedOmission runs an open loop of omissionN requests, one
// every omissionGap, on one connection to a server that takes omissionSlow
// over each: a request goes out only once the one before is answered, so
// the i-th (from 0) is answered at least (i+1)*omissionSlow after the
// start, while it was due at i*omissionGap. Latency measured from the
// intended send time must show that growing lateness; the uncorrected
// latency, from the actual send, must not. The bounds that follow from
// the schedule and the server's sleep are lower bounds, which a loaded
// machine (slower answers) only makes easier to meet; the one upper bound,
// on the uncorrected median, is a third of the corrected one, about ten
// times the median answer time on an idle machine.
func TestCoordinatedOmission(t *testing.T) {
	const (
		omissionN    = 25
		omissionGap  = 10 * time.Millisecond
		omissionSlow = 40 * time.Millisecond
	)
	ts := startServer(t, 0)
	rep := runLoad(t, loadgen.Config{URL: fmt.Sprintf("%s/slow/%d", ts.URL, omissionSlow.Milliseconds()),
		Connections: 1, RequestsPerConn: 0, Rate: float64(time.Second / omissionGap), Requests: omissionN})
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	// lower is the least latency, from its intended time, of the i-th
	// request; 1% off for the histograms' precision.
	lower := func(i int) time.Duration {
		return (time.Duration(i+1)*omissionSlow - time.Duration(i)*omissionGap) * 99 / 100
	}
	if rep.Requests != omissionN || rep.Latency.TotalCount() != omissionN || rep.Uncorrected.TotalCount() != omissionN {
		t.Fatalf("got %d requests, %d and %d latency samples; want %d each",
			rep.Requests, rep.Latency.TotalCount(), rep.Uncorrected.TotalCount(), omissionN)
	}
	corrected := []struct {
		q    float64
		want time.Duration
	}{{50, lower(omissionN/2 - 1)}, {100, lower(omissionN - 1)}}
	for _, c := range corrected {
		if got := us(rep.Latency.ValueAtQuantile(c.q)); got < c.want {
			t.Errorf("corrected p%g: got %v, want at least %v (the lateness of the sends behind a slow server)", c.q, got, c.want)
		}
	}
	if fastest := us(rep.Uncorrected.Min()); fastest < omissionSlow*99/100 {
		t.Errorf("fastest uncorrected answer: got %v, want at least %v (the server's sleep)", fastest, omissionSlow)
	}
	if u, c := us(rep.Uncorrected.ValueAtQuantile(50)), us(rep.Latency.ValueAtQuantile(50)); u > c/3 {
		t.Errorf("uncorrected p50: got %v, want at most %v (a third of the corrected p50 %v: measured from the actual send)", u, c/3, c)
	}
	if rep.Late < omissionN-1 {
		t.Errorf("late sends: got %d, want at least %d (all but the first, each %v later than the one before)",
			rep.Late, omissionN-1, omissionSlow-omissionGap)
	}
	res := checkResult(t, rep)
	if res.OpenLoop == nil || res.OpenLoop.LateSends != rep.Late {
		t.Errorf("open_loop: got %+v, want late_sends %d", res.OpenLoop, rep.Late)
	}
}

func TestManifestVerify(t *testing.T) {
	dir := t.TempDir()
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, SizeBytes: 700, Count: 20, Dir: dir, Seed: 1})
	if err != nil {
		t.Fatalf("fileset.Generate: %v", err)
	}
	ng := startNginxDir(t, dir)
	w, err := loadgen.NewManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadgen.Config{URL: ng.URL, Connections: 4, Requests: 200, RequestsPerConn: 0, Workload: w, Verify: true}
	rep := runLoad(t, cfg)
	if rep.Requests != 200 || rep.Errors.Total() != 0 {
		t.Errorf("got %d requests, errors %v; want 200, none", rep.Requests, rep.Errors)
	}
	if h := rep.Histograms.Classes[0]; h == nil || h.TotalCount() != 200 {
		t.Errorf("class0 histogram: got %v, want 200 samples", h)
	}
	// Corrupt every file, keeping its size: every body must now mismatch.
	for _, f := range m.Files {
		if err := os.WriteFile(filepath.Join(dir, f.Path), make([]byte, f.SizeBytes), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep = runLoad(t, cfg)
	if got := rep.Errors[loadgen.ChecksumMismatch]; got != 200 {
		t.Errorf("checksum mismatches: got %d, want 200 (all: %v)", got, rep.Errors)
	}
}

func TestTraceReplay(t *testing.T) {
	ts := startServer(t, 0)
	path := filepath.Join(t.TempDir(), "trace")
	os.WriteFile(path, []byte("# a trace\n/size/10\n/size/20\n\n/size/30\n"), 0o644)
	tr, err := loadgen.ReadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	rep := runLoad(t, loadgen.Config{URL: ts.URL, Connections: 1, RequestsPerConn: 0, Workload: tr, Duration: 5 * time.Second})
	if rep.Requests != 3 || ts.requests.Load() != 3 {
		t.Errorf("requests: got %d (server %d), want 3, the trace's length", rep.Requests, ts.requests.Load())
	}
}

func TestURLList(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    bool
	}{
		{"weights", "/size/1 3\n# comment\nhttp://127.0.0.1:1/size/2 1\n", false},
		{"empty", "# nothing\n", true},
		{"bad weight", "/a -1\n", true},
		{"not a path", "a\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "urls")
			os.WriteFile(path, []byte(tt.body), 0o644)
			w, err := loadgen.ReadURLList(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadURLList(%q): got error %v, want error %v", tt.body, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			counts := map[string]int{}
			src := w.NewSource(0, 1, 1)
			for i := 0; i < 4000; i++ {
				counts[src.Next().Path]++
			}
			if c := counts["/size/1"]; c < 2700 || c > 3300 {
				t.Errorf("/size/1 drawn %d times of 4000, want about 3000 (weight 3 of 4)", c)
			}
		})
	}
}

// silentListener accepts connections (the kernel completes the handshakes)
// and never answers; with backlog 0 and nothing accepting, it leaves
// further connection attempts hanging instead.
func silentListener(t *testing.T, accept bool) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	backlog := 0
	if accept {
		backlog = 64
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d/", sa.(*syscall.SockaddrInet4).Port)
}

// TestInterruptAborts cancels a run whose requests never get an answer: they
// are counted as aborted, in the report and in the result document.
func TestInterruptAborts(t *testing.T) {
	url := silentListener(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rep, err := loadgen.Run(ctx, loadgen.Config{URL: url, Connections: 3, RequestsPerConn: 0,
		Duration: 30 * time.Second, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !rep.Interrupted || rep.Aborted != 3 {
		t.Errorf("got interrupted %v, %d aborted; want true, 3 (one per connection)", rep.Interrupted, rep.Aborted)
	}
	res := checkResult(t, rep)
	if res.AbortedRequests != 3 {
		t.Errorf("aborted_requests: got %d, want 3", res.AbortedRequests)
	}
	if _, ok := res.Config.Extra["aborted_requests"]; ok {
		t.Errorf("config.extra: got aborted_requests, want it only at the top level")
	}
}

// TestSClientAborts runs S-Client against a server whose accept queue is
// full: attempts are aborted after the connect timeout and counted.
func TestSClientAborts(t *testing.T) {
	url := silentListener(t, false)
	rep := runLoad(t, loadgen.Config{URL: url, Connections: 4, SClient: true, Duration: 400 * time.Millisecond,
		Timeout: 300 * time.Millisecond, ConnectTimeout: 40 * time.Millisecond})
	if rep.AbortedConnects == 0 || rep.Errors[loadgen.ConnectTimeout] < rep.AbortedConnects {
		t.Errorf("got %d aborted connects, %d connect timeouts; want > 0 and at least as many timeouts",
			rep.AbortedConnects, rep.Errors[loadgen.ConnectTimeout])
	}
	res := checkResult(t, rep)
	if res.SClient == nil {
		t.Fatalf("sclient: got none, want the S-Client counts")
	}
	if res.SClient.AbortedConnects != rep.AbortedConnects {
		t.Errorf("sclient.aborted_connects: got %d, want %d", res.SClient.AbortedConnects, rep.AbortedConnects)
	}
	if res.SClient.OfferedConnPerS <= res.SClient.AchievedConnPerS {
		t.Errorf("sclient: offered %g conn/s, achieved %g; want offered above achieved", res.SClient.OfferedConnPerS, res.SClient.AchievedConnPerS)
	}
	for _, k := range []string{"sclient", "sclient_offered_conn_per_s", "sclient_achieved_conn_per_s"} {
		if _, ok := res.Config.Extra[k]; ok {
			t.Errorf("config.extra: got %s, want the sclient object instead", k)
		}
	}
}
