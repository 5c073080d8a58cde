package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"flashbench/results"
)

// BoundCell summarises the bound verdicts of a group's trials: the verdict
// when they agree ("server"), else each with its count in the order of
// results.BoundVerdicts ("server 3, client 2"); "–" for none. A trial
// without a verdict (measured before budgets) counts as "unknown".
func BoundCell(verdicts []string) string {
	if len(verdicts) == 0 {
		return "–"
	}
	count := map[string]int{}
	for _, v := range verdicts {
		count[v]++
	}
	if len(count) == 1 {
		return verdicts[0]
	}
	var parts []string
	for _, v := range append(slices.Clone(results.BoundVerdicts), unknownBound) {
		if n := count[v]; n > 0 {
			parts = append(parts, v+" "+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, ", ")
}

// unknownBound is the verdict of a result that has none.
const unknownBound = "unknown"

// verdict returns r's bound verdict, unknownBound when it has none.
func verdict(r *results.Result) string {
	if r.Bound == nil {
		return unknownBound
	}
	return r.Bound.Verdict
}

// serverBound reports whether p answers the papers' questions (its server
// was the bottleneck, or in a disk-bound experiment the server's disk)
// and, when it does not, why.
func serverBound(p *Point) (bool, string) {
	switch b := p.Result.Bound; {
	case b == nil:
		return false, "no bound verdict (measured without a CPU budget)"
	case b.Verdict == results.BoundUndecided:
		return false, "bound undecided: " + b.Reason
	case b.Verdict != results.BoundServer && b.Verdict != results.BoundDisk:
		return false, b.Verdict + "-bound: " + b.Reason
	}
	return true, ""
}

// Verdicts returns the bound verdict of every trial of g.
func (g *Group) Verdicts() []string {
	v := make([]string, 0, len(g.Results))
	for _, r := range g.Results {
		v = append(v, verdict(r))
	}
	return v
}

// clientValues returns, sorted, the client's CPU share (%) of g's trials
// that have a budget section.
func (g *Group) clientValues() []float64 {
	var client []float64
	for _, r := range g.Results {
		if r.Budget != nil && r.Client != nil {
			client = append(client, 100*r.Client.CPUUtilization)
		}
	}
	slices.Sort(client)
	return client
}

// diskInFlight returns, sorted, the mean reads in flight at the slow
// device over each of g's trials that served from one: how many reads the
// architecture keeps the device busy with (sped one, amped one per busy
// helper, uring as many as its ring holds).
func (g *Group) diskInFlight() []float64 {
	var v []float64
	for _, r := range g.Results {
		if r.Disk != nil {
			v = append(v, r.Disk.MeanInFlight)
		}
	}
	slices.Sort(v)
	return v
}

// latencyNote says how a CPU budget stretches latency, beside the latency
// figures: a request that arrives while the server is throttled waits
// for the next period, up to the period's throttled share. "" when no
// result of groups ran under a quota.
func latencyNote(groups []*Group) string {
	var cores []float64
	var period int64
	for _, g := range groups {
		for _, r := range g.Results {
			if b := r.Budget; b != nil && b.PeriodUS > 0 && !slices.Contains(cores, b.ServerCPUCores) {
				cores, period = append(cores, b.ServerCPUCores), b.PeriodUS
			}
		}
	}
	if len(cores) == 0 {
		return ""
	}
	slices.Sort(cores)
	c := cores[0]
	return fmt.Sprintf("Latencies are measured under the server's CPU budget (%s cores per %d ms period): "+
		"a request that arrives while the server is throttled waits for the next period, up to %.1f ms (the period's throttled share).",
		strconv.FormatFloat(c, 'g', -1, 64), period/1000, (1-c)*float64(period)/1000)
}
