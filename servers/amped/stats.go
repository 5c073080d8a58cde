package amped

import "sync/atomic"

// Stats are a pool's and handler's counters since they were created.
type Stats struct {
	// ResolveDispatches and PageInDispatches count jobs submitted to
	// helpers, by kind.
	ResolveDispatches uint64 `json:"resolve_dispatches"`
	PageInDispatches  uint64 `json:"page_in_dispatches"`
	// ResolveReads counts the resolve jobs that also read the start of
	// the file (a cold file served in one round trip).
	ResolveReads uint64 `json:"resolve_reads"`
	// HelperSpawns and HelperDeaths count helper processes started and
	// helpers that died while the pool was open.
	HelperSpawns uint64 `json:"helper_spawns"`
	HelperDeaths uint64 `json:"helper_deaths"`
	// HelperTimeouts counts helpers killed because their job outlived
	// PoolOptions.Timeout (each is also a death).
	HelperTimeouts uint64 `json:"helper_timeouts"`
	// StartFailures counts helpers that died, or could not be started,
	// before completing any job; each pushes the next spawn back.
	StartFailures uint64 `json:"start_failures"`
	// JobsRetried counts jobs retried after their helper died; JobsFailed
	// counts jobs that got no completion (answered 503).
	JobsRetried uint64 `json:"jobs_retried"`
	JobsFailed  uint64 `json:"jobs_failed"`
	// JobsCoalesced counts submissions that asked for work already queued
	// or in flight and waited for that job instead of sending another.
	JobsCoalesced uint64 `json:"jobs_coalesced"`
	// StillNotResident counts responses whose data was not all resident
	// even after a page-in job (sent anyway).
	StillNotResident uint64 `json:"still_not_resident"`
	// Unavailable counts 503 responses.
	Unavailable uint64 `json:"unavailable"`
}

// Dispatches returns the number of jobs of either kind.
func (s Stats) Dispatches() uint64 { return s.ResolveDispatches + s.PageInDispatches }

// counters are atomics so that Stats may be read from any goroutine while
// the loop thread counts.
type counters struct {
	resolves, pageIns, resolveReads, spawns, deaths, timeouts, startFailures atomic.Uint64
	retried, failed, coalesced, stillCold, unavailable                       atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		ResolveDispatches: c.resolves.Load(),
		PageInDispatches:  c.pageIns.Load(),
		ResolveReads:      c.resolveReads.Load(),
		HelperSpawns:      c.spawns.Load(),
		HelperDeaths:      c.deaths.Load(),
		HelperTimeouts:    c.timeouts.Load(),
		StartFailures:     c.startFailures.Load(),
		JobsRetried:       c.retried.Load(),
		JobsFailed:        c.failed.Load(),
		JobsCoalesced:     c.coalesced.Load(),
		StillNotResident:  c.stillCold.Load(),
		Unavailable:       c.unavailable.Load(),
	}
}

// Stats returns the pool's counters; it is safe from any goroutine.
func (p *Pool) Stats() Stats { return p.stats.snapshot() }
