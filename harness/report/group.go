package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"flashbench/results"
)

// Metric is one number a result document holds, in the unit tables show.
type Metric struct {
	// Name is the metric's key: the result document's key, or
	// latency_p50_us / latency_p99_us for latency_us.p50 / .p99.
	Name string
	// Label and Unit head a table column: "throughput" and "req/s".
	Label, Unit string
	// Scale turns the document's value into Unit (bytes/s to Mbit/s).
	Scale float64
	// LowerIsBetter is true for latencies and costs.
	LowerIsBetter bool
	value         func(*results.Result) float64
	// has, when set, tells whether a result holds the metric at all (the
	// server's CPU cost needs the budget section).
	has func(*results.Result) bool
}

// Value returns m's value of r in m's Unit.
func (m Metric) Value(r *results.Result) float64 { return m.value(r) * m.Scale }

// Has reports whether r holds m: a result measured without a CPU budget
// has no server CPU per request.
func (m Metric) Has(r *results.Result) bool { return m.has == nil || m.has(r) }

// Metrics are the metrics reports and comparisons show, in table order.
var Metrics = []Metric{
	{Name: "throughput_rps", Label: "throughput", Unit: "req/s", Scale: 1,
		value: func(r *results.Result) float64 { return r.ThroughputRPS }},
	{Name: "connections_per_s", Label: "connections", Unit: "conn/s", Scale: 1,
		value: func(r *results.Result) float64 { return r.ConnectionsPerS }},
	{Name: "bytes_per_s", Label: "bandwidth", Unit: "Mbit/s", Scale: 8e-6,
		value: func(r *results.Result) float64 { return r.BytesPerS }},
	{Name: "latency_p50_us", Label: "p50 latency", Unit: "ms", Scale: 1e-3, LowerIsBetter: true,
		value: func(r *results.Result) float64 { return float64(r.LatencyUS.P50) }},
	{Name: "latency_p99_us", Label: "p99 latency", Unit: "ms", Scale: 1e-3, LowerIsBetter: true,
		value: func(r *results.Result) float64 { return float64(r.LatencyUS.P99) }},
	{Name: "server_cpu_per_request_us", Label: "server CPU", Unit: "µs/req", Scale: 1, LowerIsBetter: true,
		value: func(r *results.Result) float64 { return r.Budget.ServerCPUPerRequestUS },
		has:   func(r *results.Result) bool { return r.Budget != nil }},
}

// MetricByName returns the metric named name.
func MetricByName(name string) (Metric, bool) {
	for _, m := range Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Group is every ok trial of one architecture at one parameter setting of
// one experiment.
type Group struct {
	Experiment string
	Arch       string
	Params     map[string]any
	// Key is Params in canonical form: "clients=64, file_size_bytes=500".
	Key     string
	Results []*results.Result
	// Points are the trials Results come from, in the same order.
	Points []*Point
}

// Values returns m's value of every trial that has it, in m's unit,
// sorted.
func (g *Group) Values(m Metric) []float64 {
	v := make([]float64, 0, len(g.Results))
	for _, r := range g.Results {
		if m.Has(r) {
			v = append(v, m.Value(r))
		}
	}
	slices.Sort(v)
	return v
}

// Stats is the median and range of a metric across trials.
type Stats struct {
	N                int
	Median, Min, Max float64
}

// Summarize returns the median, min and max of v; the zero Stats for none.
func Summarize(v []float64) Stats {
	if len(v) == 0 {
		return Stats{}
	}
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Stats{N: n, Median: med, Min: s[0], Max: s[n-1]}
}

// Groups groups the ok points by experiment, architecture and parameters.
// Experiments keep their order of first appearance; within one, parameter
// settings are sorted (numbers numerically, other values by first
// appearance) and architectures keep their order of first appearance.
func Groups(points []*Point) []*Group {
	byKey := map[string]*Group{}
	var groups []*Group
	order := newOrder()
	for _, p := range points {
		order.see(p.Experiment, p.Arch, p.Params)
		if p.Status != StatusOK || p.Result == nil {
			continue
		}
		key := ParamsKey(p.Params)
		id := p.Experiment + "\x00" + p.Arch + "\x00" + key
		g := byKey[id]
		if g == nil {
			g = &Group{Experiment: p.Experiment, Arch: p.Arch, Params: p.Params, Key: key}
			byKey[id] = g
			groups = append(groups, g)
		}
		g.Results = append(g.Results, p.Result)
		g.Points = append(g.Points, p)
	}
	slices.SortStableFunc(groups, func(a, b *Group) int {
		return cmp.Or(
			cmp.Compare(order.index["e\x00"+a.Experiment], order.index["e\x00"+b.Experiment]),
			order.compareParams(a.Params, b.Params),
			cmp.Compare(order.index["a\x00"+a.Arch], order.index["a\x00"+b.Arch]),
		)
	})
	return groups
}

// order remembers when each experiment, architecture and parameter value
// was first seen.
type order struct{ index map[string]int }

func newOrder() *order { return &order{index: map[string]int{}} }

func (o *order) add(k string) {
	if _, ok := o.index[k]; !ok {
		o.index[k] = len(o.index)
	}
}

func (o *order) see(experiment, arch string, params map[string]any) {
	o.add("e\x00" + experiment)
	o.add("a\x00" + arch)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		o.add("p\x00" + k + "\x00" + FormatParam(params[k]))
	}
}

// compareParams orders parameter settings key by key.
func (o *order) compareParams(a, b map[string]any) int {
	keys := slices.Sorted(maps.Keys(a))
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		av, aok := a[k]
		bv, bok := b[k]
		if aok != bok {
			return cmp.Compare(boolInt(aok), boolInt(bok))
		}
		if !aok {
			continue
		}
		an, aNum := Number(av)
		bn, bNum := Number(bv)
		var c int
		if aNum && bNum {
			c = cmp.Compare(an, bn)
		} else {
			c = cmp.Compare(o.index["p\x00"+k+"\x00"+FormatParam(av)], o.index["p\x00"+k+"\x00"+FormatParam(bv)])
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Number returns v as a float64 when it is a JSON number.
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// FormatParam formats a parameter value: integers without a decimal point
// or exponent, other numbers in the shortest exact form, strings as they are.
func FormatParam(v any) string {
	if f, ok := Number(v); ok {
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatInt(int64(f), 10)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ParamsKey is params in canonical form, keys sorted: "clients=64, file_size_bytes=500".
func ParamsKey(params map[string]any) string {
	parts := make([]string, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		parts = append(parts, k+"="+FormatParam(params[k]))
	}
	return strings.Join(parts, ", ")
}
