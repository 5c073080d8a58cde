package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Measurement is one client run: a server under one case in one round.
type Measurement struct {
	Case, Server string
	Round        int
	RPS          float64
	Errors       int64
	// Busy is the share of the run the server's threads ran or waited
	// for a CPU (CASE.SERVER.ROUND.server.json), or NaN when unknown.
	Busy float64
}

// ClientBound is the Busy below which a server spent a good part of the
// run waiting for its client: a ratio between two such servers measures
// the client, not the servers.
const ClientBound = 0.9

// ReadDir reads every CASE.SERVER.ROUND.json in dir, with its side file
// CASE.SERVER.ROUND.server.json when there is one.
func ReadDir(dir string) ([]Measurement, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var ms []Measurement
	for _, name := range names {
		parts := strings.Split(strings.TrimSuffix(filepath.Base(name), ".json"), ".")
		if len(parts) != 3 {
			continue // not a measurement
		}
		round, err := strconv.Atoi(parts[2])
		if err != nil {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read results: %w", err)
		}
		var doc struct {
			ThroughputRPS *float64 `json:"throughput_rps"`
			ErrorsTotal   int64    `json:"errors_total"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("read results: %s: %w", name, err)
		}
		if doc.ThroughputRPS == nil {
			return nil, fmt.Errorf("read results: %s: no throughput_rps", name)
		}
		busy, err := readBusy(strings.TrimSuffix(name, ".json") + ".server.json")
		if err != nil {
			return nil, err
		}
		ms = append(ms, Measurement{Case: parts[0], Server: parts[1], Round: round, RPS: *doc.ThroughputRPS, Errors: doc.ErrorsTotal, Busy: busy})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("read results: no CASE.SERVER.ROUND.json in %s", dir)
	}
	return ms, nil
}

// readBusy reads a side file's server_busy; NaN when there is none.
func readBusy(name string) (float64, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return math.NaN(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("read results: %w", err)
	}
	var doc struct {
		Busy *float64 `json:"server_busy"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Busy == nil {
		return 0, fmt.Errorf("read results: %s: want {\"server_busy\": X}", name)
	}
	return *doc.Busy, nil
}

// Cell is one case and server over its rounds.
type Cell struct {
	Median, Min, Max float64
	Rounds           int
	Errors           int64
	// Busy is the median of the rounds' Busy, NaN when any is unknown.
	Busy float64
}

// Summary maps case, then server, to its cell; Cases lists the cases in
// the order their names sort in.
type Summary struct {
	Cases []string
	Cells map[string]map[string]Cell
}

// Summarise takes the median, minimum and maximum of each case and
// server's rounds.
func Summarise(ms []Measurement) Summary {
	rps := map[string]map[string][]float64{}
	busy := map[string]map[string][]float64{}
	s := Summary{Cells: map[string]map[string]Cell{}}
	for _, m := range ms {
		if rps[m.Case] == nil {
			rps[m.Case] = map[string][]float64{}
			busy[m.Case] = map[string][]float64{}
			s.Cells[m.Case] = map[string]Cell{}
			s.Cases = append(s.Cases, m.Case)
		}
		rps[m.Case][m.Server] = append(rps[m.Case][m.Server], m.RPS)
		busy[m.Case][m.Server] = append(busy[m.Case][m.Server], m.Busy)
		c := s.Cells[m.Case][m.Server]
		c.Errors += m.Errors
		s.Cells[m.Case][m.Server] = c
	}
	for cs, servers := range rps {
		for srv, v := range servers {
			c := s.Cells[cs][srv]
			c.Median, c.Min, c.Max, c.Rounds = median(v), slices.Min(v), slices.Max(v), len(v)
			c.Busy = math.NaN()
			if b := busy[cs][srv]; !slices.ContainsFunc(b, math.IsNaN) {
				c.Busy = median(b)
			}
			s.Cells[cs][srv] = c
		}
	}
	sort.Strings(s.Cases)
	return s
}

// ordered returns names with those in order first, in that order.
func ordered(names, order []string) []string {
	var out []string
	for _, n := range order {
		if slices.Contains(names, n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Target is a ratio of two servers' medians in one case, and the value
// it should reach; a NaN Min makes it a ratio printed for information,
// with no target.
type Target struct {
	Case, Num, Den string
	Min            float64
}

// ParseTarget parses CASE:A/B>=X, or CASE:A/B for a ratio without a
// target.
func ParseTarget(s string) (Target, error) {
	cs, rest, ok1 := strings.Cut(s, ":")
	ratio, x, hasMin := strings.Cut(rest, ">=")
	num, den, ok3 := strings.Cut(ratio, "/")
	v, err := math.NaN(), error(nil)
	if hasMin {
		v, err = strconv.ParseFloat(x, 64)
		if err == nil && math.IsNaN(v) {
			err = strconv.ErrSyntax
		}
	}
	if !ok1 || !ok3 || err != nil || cs == "" || num == "" || den == "" {
		return Target{}, fmt.Errorf("target %q: want CASE:A/B>=X (or CASE:A/B, no target), e.g. 500b-keepalive:sped/nginx>=1.2", s)
	}
	return Target{Case: cs, Num: num, Den: den, Min: v}, nil
}

// goal is how a target line names the value it should reach.
func (t Target) goal() string {
	if math.IsNaN(t.Min) {
		return "(no target)"
	}
	return fmt.Sprintf("(target >= %g)", t.Min)
}

// Print writes the medians table, servers in order (then any others,
// sorted), and one line per target.
func Print(w io.Writer, s Summary, order []string, targets []Target) error {
	servers := columns(s, order)
	fmt.Fprintf(w, "%-20s", "case")
	for _, srv := range servers {
		fmt.Fprintf(w, " %24s", srv+" req/s")
	}
	fmt.Fprintln(w)
	for _, cs := range s.Cases {
		fmt.Fprintf(w, "%-20s", cs)
		for _, srv := range servers {
			c, ok := s.Cells[cs][srv]
			if !ok {
				fmt.Fprintf(w, " %24s", "-")
				continue
			}
			fmt.Fprintf(w, " %24s", cellText(c))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "(median of the rounds [min-max]; !N: N client errors in all rounds)")
	if len(targets) > 0 {
		fmt.Fprintln(w, "\nratios of medians:")
	}
	for _, t := range targets {
		a, okA := s.Cells[t.Case][t.Num]
		b, okB := s.Cells[t.Case][t.Den]
		name := fmt.Sprintf("%s %s/%s", t.Case, t.Num, t.Den)
		if !okA || !okB || b.Median == 0 {
			fmt.Fprintf(w, "  %-36s %8s  %s not measured\n", name, "-", t.goal())
			continue
		}
		r := a.Median / b.Median
		verdict := " met"
		switch {
		case math.IsNaN(t.Min):
			verdict = ""
		case a.Busy < ClientBound && b.Busy < ClientBound:
			verdict = fmt.Sprintf(" client-bound, not decided: servers busy %.2f and %.2f of the run", a.Busy, b.Busy)
		case r < t.Min:
			verdict = " NOT met"
		}
		fmt.Fprintf(w, "  %-36s %8.3f  %s%s\n", name, r, t.goal(), verdict)
	}
	return nil
}

func cellText(c Cell) string {
	s := fmt.Sprintf("%.0f [%.0f-%.0f]", c.Median, c.Min, c.Max)
	if c.Errors > 0 {
		s += fmt.Sprintf(" !%d", c.Errors)
	}
	return s
}

// columns returns order's servers that were measured, then the rest,
// sorted.
func columns(s Summary, order []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, srv := range order {
		for _, cs := range s.Cases {
			if _, ok := s.Cells[cs][srv]; ok && !seen[srv] {
				seen[srv] = true
				out = append(out, srv)
			}
		}
	}
	var rest []string
	for _, cs := range s.Cases {
		for srv := range s.Cells[cs] {
			if !seen[srv] {
				seen[srv] = true
				rest = append(rest, srv)
			}
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}
