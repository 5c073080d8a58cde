package loadgen

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"flashbench/results"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Merge combines the results of several client machines that loaded the
// same server at the same time into one: counts and rates add up, the
// histograms are merged losslessly and the percentiles recomputed from
// them, the open-loop uncorrected ones too when every open-loop client
// stored its uncorrected histogram. The dominant error class is the merged
// counts' and the note keeps every client's; the host load is the busiest
// client machine's, figure by figure. The per-second series adds requests and
// errors; its p99 is the largest of the clients' (per-second histograms are
// not in the documents).
func Merge(rs []*results.Result) (*results.Result, error) {
	if len(rs) == 0 {
		return nil, errors.New("loadgen: merge: no results")
	}
	out := *rs[0]
	out.Config.Targets = slices.Clone(rs[0].Config.Targets)
	out.Config.Extra = results.Object{"merged_results": len(rs)}
	out.Histograms = nil
	out.Series = nil
	if rs[0].OpenLoop != nil {
		ol := *rs[0].OpenLoop
		out.OpenLoop = &ol
	}
	if rs[0].SClient != nil {
		sc := *rs[0].SClient
		out.SClient = &sc
	}
	if rs[0].Client != nil {
		c := *rs[0].Client
		out.Client = &c
	}
	out.HostLoad = results.WorstHostLoad(rs[0].HostLoad, nil)
	hists, err := mergeHistograms(rs)
	if err != nil {
		return nil, err
	}
	for _, r := range rs[1:] {
		mergeScalars(&out, r)
	}
	for _, name := range slices.Sorted(maps.Keys(hists)) {
		if err := out.SetHistogram(name, hists[name]); err != nil {
			return nil, fmt.Errorf("loadgen: merge: %w", err)
		}
	}
	if h := hists[results.HistogramTotal]; h != nil {
		out.LatencyUS = results.LatencyFrom(h)
	}
	if h := hists[results.HistogramUncorrected]; h != nil && out.OpenLoop != nil {
		out.OpenLoop.UncorrectedLatencyUS = results.LatencyFrom(h)
	}
	out.Series = mergeSeries(rs)
	out.ErrorsTotal = out.Errors.Total()
	out.DominantError = out.Errors.Dominant()
	out.Note = mergeNotes(rs)
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("loadgen: merge: %w", err)
	}
	return &out, nil
}

// mergeHistograms merges the results' histograms by name. The uncorrected
// histogram is kept only when every open-loop result has one: merged from
// some clients only, it would pass for all of them.
func mergeHistograms(rs []*results.Result) (map[string]*hdrhistogram.Histogram, error) {
	hists := map[string]*hdrhistogram.Histogram{}
	uncorrected := true
	for i, r := range rs {
		if _, ok := r.Histograms[results.HistogramUncorrected]; !ok && r.OpenLoop != nil {
			uncorrected = false
		}
		for name := range r.Histograms {
			h, err := r.Histogram(name)
			if err != nil {
				return nil, fmt.Errorf("loadgen: merge: result %d: %w", i+1, err)
			}
			if hists[name] == nil {
				hists[name] = NewHistogram()
			}
			hists[name].Merge(h)
		}
	}
	if !uncorrected {
		delete(hists, results.HistogramUncorrected)
	}
	return hists, nil
}

func mergeScalars(out, r *results.Result) {
	out.DurationS = max(out.DurationS, r.DurationS)
	if r.StartedAt.Before(out.StartedAt) {
		out.StartedAt = r.StartedAt
	}
	out.Config.Connections += r.Config.Connections
	out.Config.Threads += r.Config.Threads
	out.Config.RateRPS += r.Config.RateRPS
	out.RequestsTotal += r.RequestsTotal
	out.ThroughputRPS += r.ThroughputRPS
	out.ConnectionsPerS += r.ConnectionsPerS
	out.BytesPerS += r.BytesPerS
	out.Errors.Merge(r.Errors)
	if c := r.Client; c != nil {
		if out.Client == nil {
			out.Client = &results.Client{}
		}
		out.Client.CPUUserS += c.CPUUserS
		out.Client.CPUSystemS += c.CPUSystemS
		out.Client.CPUUtilization = max(out.Client.CPUUtilization, c.CPUUtilization)
		out.Client.Saturated = out.Client.Saturated || c.Saturated
	}
	// The busiest client machine's, figure by figure.
	out.HostLoad = results.WorstHostLoad(out.HostLoad, r.HostLoad)
	if r.Interrupted && !out.Interrupted {
		out.Interrupted, out.InterruptedReason = true, r.InterruptedReason
	}
	out.AbortedRequests += r.AbortedRequests
	if ol := r.OpenLoop; ol != nil && out.OpenLoop != nil {
		out.OpenLoop.OfferedRPS += ol.OfferedRPS
		out.OpenLoop.AchievedRPS += ol.AchievedRPS
		out.OpenLoop.LateSends += ol.LateSends
		// Without the uncorrected histograms, keep the worse client's
		// summary; Merge replaces it when they are all there.
		if ol.UncorrectedLatencyUS.P99 > out.OpenLoop.UncorrectedLatencyUS.P99 {
			out.OpenLoop.UncorrectedLatencyUS = ol.UncorrectedLatencyUS
		}
	}
	if sc := r.SClient; sc != nil {
		if out.SClient == nil {
			out.SClient = &results.SClient{}
		}
		out.SClient.OfferedConnPerS += sc.OfferedConnPerS
		out.SClient.AchievedConnPerS += sc.AchievedConnPerS
		out.SClient.AbortedConnects += sc.AbortedConnects
	}
	for _, t := range r.Config.Targets {
		if !slices.Contains(out.Config.Targets, t) {
			out.Config.Targets = append(out.Config.Targets, t)
		}
	}
}

// mergeNotes keeps every client's note, each named by its client's place
// in the merge when there are several.
func mergeNotes(rs []*results.Result) string {
	if len(rs) == 1 {
		return rs[0].Note
	}
	var notes []string
	for i, r := range rs {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("client %d: %s", i+1, r.Note))
		}
	}
	return strings.Join(notes, "; ")
}

// mergeSeries adds the clients' series second by second (by t_s rounded
// to the millisecond).
func mergeSeries(rs []*results.Result) results.List[results.Interval] {
	byTS := map[int64]*results.Interval{}
	for _, r := range rs {
		for _, iv := range r.Series {
			key := int64(iv.TS*1000 + 0.5)
			m := byTS[key]
			if m == nil {
				c := iv
				byTS[key] = &c
				continue
			}
			m.Requests += iv.Requests
			m.ThroughputRPS += iv.ThroughputRPS
			m.Errors += iv.Errors
			m.P99US = max(m.P99US, iv.P99US)
		}
	}
	var out results.List[results.Interval]
	for _, k := range slices.Sorted(maps.Keys(byTS)) {
		out = append(out, *byTS[k])
	}
	return out
}
