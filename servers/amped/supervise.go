package amped

import (
	"errors"
	"time"
)

// DefaultTimeout is the default bound on one helper job. A page-in of a
// few megabytes from a healthy disk takes milliseconds; ten seconds means
// the helper (or the device under it) is stuck, and a stuck helper would
// otherwise hold its connection, and one of the bounded helper slots,
// forever.
const DefaultTimeout = 10 * time.Second

// Spawn backoff: after a helper dies before completing any job (a binary
// that exits at once, a helper that cannot open the root), the next spawn
// waits firstBackoff, doubling with each such death in a row up to
// maxBackoff, and a completed job resets it. From failFastAfter deaths in a
// row on, while no helper is alive and the delay runs, jobs fail at once
// (503) instead of queueing for a helper that will likely die too.
const (
	firstBackoff  = 10 * time.Millisecond
	maxBackoff    = time.Second
	failFastAfter = 3
)

// ErrHelperStart is the outcome of a job that found no helper alive while
// the pool waits before starting another, because helpers kept dying
// before completing any job.
var ErrHelperStart = errors.New("amped: helpers die at start; waiting before the next spawn")

// supervisor is the pool's watch over its helpers: the job deadline sweep
// and the spawn backoff.
type supervisor struct {
	// sweepArmed is set while a deadline sweep is pending or running.
	sweepArmed bool
	// wakeArmed is set while a dispatch is pending for the backoff's end.
	wakeArmed bool
	// failures counts helpers in a row that died before completing a
	// job; spawnAt is the earliest time the next helper may start.
	failures int
	spawnAt  time.Time
}

// armDeadline starts the clock on h's job and makes sure a sweep will
// look at it.
func (p *Pool) armDeadline(h *helper) {
	if p.opts.Timeout < 0 {
		return
	}
	h.deadline = time.Now().Add(p.opts.Timeout)
	p.armSweep(p.opts.Timeout)
}

// armSweep schedules a sweep in d unless one is pending: one timer serves
// every helper, whatever the job rate.
func (p *Pool) armSweep(d time.Duration) {
	if p.super.sweepArmed {
		return
	}
	p.super.sweepArmed = true
	p.poller.After(d, p.sweep)
}

// sweep kills the helpers whose job is past its deadline (their jobs are
// retried or failed as for any death), then schedules the next sweep for
// the earliest deadline still running.
func (p *Pool) sweep() {
	if p.closed {
		p.super.sweepArmed = false
		return
	}
	now := time.Now()
	for _, h := range append([]*helper(nil), p.helpers...) {
		if h.job != nil && !h.dead && !now.Before(h.deadline) {
			p.stats.timeouts.Add(1)
			p.died(h)
		}
	}
	p.super.sweepArmed = false
	next := time.Duration(-1)
	for _, h := range p.helpers {
		if h.job != nil {
			if d := h.deadline.Sub(now); next < 0 || d < next {
				next = d
			}
		}
	}
	if next >= 0 {
		p.armSweep(max(next, time.Millisecond))
	}
}

// startFailed records a helper that died (or could not be started) before
// completing any job, and pushes the next spawn back.
func (p *Pool) startFailed() {
	p.stats.startFailures.Add(1)
	p.super.failures++
	d := maxBackoff
	if p.super.failures <= 20 {
		d = min(firstBackoff<<(p.super.failures-1), maxBackoff)
	}
	p.super.spawnAt = time.Now().Add(d)
}

// maySpawn reports whether a helper may be started now. If not, queued
// jobs wait for the end of the backoff (a dispatch is scheduled for it),
// or fail with ErrHelperStart when no helper is alive and helpers have
// been dying at start for a while.
func (p *Pool) maySpawn() bool {
	wait := time.Until(p.super.spawnAt)
	if wait <= 0 {
		return true
	}
	if len(p.helpers) == 0 && p.super.failures >= failFastAfter {
		p.failAll(ErrHelperStart)
		return false
	}
	if !p.super.wakeArmed {
		p.super.wakeArmed = true
		p.poller.After(wait, func() {
			p.super.wakeArmed = false
			p.dispatch()
		})
	}
	return false
}
