package harness

import (
	"fmt"
	"strconv"
	"strings"

	"flashbench/harness/topology"
	"flashbench/results"
)

// The thresholds of the bound verdict (results.Bound).
const (
	// ServerBoundAt is the share of its budget at and above which the
	// server is the bottleneck, if the client is below ClientFreeBelow.
	ServerBoundAt = 0.9
	// ClientFreeBelow is the share of its cores below which the client
	// had room to spare.
	ClientFreeBelow = 0.7
	// ClientBoundAt is the share of its cores at and above which the
	// client is the bottleneck.
	ClientBoundAt = 0.9
	// NetworkBoundAt is the share of the link's tbf rate at and above
	// which the link is the bottleneck.
	NetworkBoundAt = 0.9
	// DiskBoundAt is the share of a trial during which the slow device
	// had a read in flight at and above which a server below its budget
	// was waiting on the disk. Three quarters, not nine tenths: a SPED
	// server keeps one read in flight and computes between its reads, so
	// the device it waits on is idle for those moments
	// (results/dataset-sweep/20261207T172555Z: sped busy 83% of its trials
	// at a fifth of its budget).
	DiskBoundAt = 0.75
)

// BoundOf decides what bounded a measured point: the client at
// ClientBoundAt of its cores; else the link at NetworkBoundAt of its rate
// (rateBitsPerS, 0 for no limit; the response bytes per second against
// it); else the server at ServerBoundAt of its budget (res.Budget) with
// the client below ClientFreeBelow; else the slow device (res.Disk) busy
// DiskBoundAt of the trial with the client below ClientFreeBelow; else
// undecided. A result without a budget section is undecided.
func BoundOf(res *results.Result, rateBitsPerS float64) results.Bound {
	if res.Client == nil {
		return results.Bound{Verdict: results.BoundUndecided, Reason: "no client CPU measured"}
	}
	cli := res.Client.CPUUtilization
	link := res.BytesPerS * 8
	switch {
	case cli >= ClientBoundAt:
		return results.Bound{Verdict: results.BoundClient, Reason: fmt.Sprintf("client at %.0f%% of its cores", 100*cli)}
	case rateBitsPerS > 0 && link >= NetworkBoundAt*rateBitsPerS:
		return results.Bound{Verdict: results.BoundNetwork,
			Reason: fmt.Sprintf("link at %.0f%% of its %.0f Mbit/s rate", 100*link/rateBitsPerS, rateBitsPerS/1e6)}
	case res.Budget == nil:
		return results.Bound{Verdict: results.BoundUndecided, Reason: "no server CPU measured (no budget section)"}
	}
	b := res.Budget
	srv := fmt.Sprintf("server at %.0f%% of its %s", 100*b.ServerUtilization, budgetName(b))
	switch {
	case b.ServerUtilization >= ServerBoundAt && cli < ClientFreeBelow:
		return results.Bound{Verdict: results.BoundServer, Reason: fmt.Sprintf("%s, client at %.0f%%", srv, 100*cli)}
	case b.ServerUtilization >= ServerBoundAt:
		return results.Bound{Verdict: results.BoundUndecided,
			Reason: fmt.Sprintf("%s, but client at %.0f%% (%.0f%% or more: it may have been the bottleneck too)", srv, 100*cli, 100*ClientFreeBelow)}
	}
	if d := res.Disk; d != nil && res.DurationS > 0 {
		busy := d.BusyS / res.DurationS
		disk := fmt.Sprintf("disk busy %.0f%% of the trial with %.2f reads in flight", 100*busy, d.MeanInFlight)
		if busy >= DiskBoundAt && cli < ClientFreeBelow {
			return results.Bound{Verdict: results.BoundDisk, Reason: fmt.Sprintf("%s, %s, client at %.0f%%", disk, srv, 100*cli)}
		}
		srv += ", " + disk
	}
	return results.Bound{Verdict: results.BoundUndecided, Reason: fmt.Sprintf("%s, client at %.0f%%: neither at its limit", srv, 100*cli)}
}

// budgetName names what the server's use is a share of: "0.3-core
// budget", "CPUs (no quota)", "CPUs (unbudgeted)".
func budgetName(b *results.Budget) string {
	switch {
	case b.ServerCPUCores == 0:
		return "CPUs (unbudgeted)"
	case b.ServerCPUCores >= 1:
		return "CPUs (no quota)"
	}
	return strconv.FormatFloat(b.ServerCPUCores, 'g', -1, 64) + "-core budget"
}

// tcRateUnits are tc(8)'s rate units in bits per second.
var tcRateUnits = []struct {
	suffix string
	bits   float64
}{
	{"tbit", 1e12}, {"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1},
	{"tbps", 8e12}, {"gbps", 8e9}, {"mbps", 8e6}, {"kbps", 8e3}, {"bps", 8},
}

// rateBits returns a tc rate ("100mbit", "12.5mbps") in bits per second,
// 0 for "" or a rate it cannot read.
func rateBits(rate string) float64 {
	for _, u := range tcRateUnits {
		if n, ok := strings.CutSuffix(rate, u.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v < 0 {
				return 0
			}
			return v * u.bits
		}
	}
	return 0
}

// linkRate returns the topology's link rate in bits per second, 0 when
// it has none (only netns sets one, with --rate).
func linkRate(topo topology.Topology) float64 {
	if n, ok := topo.(*topology.Netns); ok {
		return rateBits(n.Rate)
	}
	return 0
}
