package loadgen

import (
	"math"
	"math/rand/v2"
	"time"
)

// Pacer decides WHEN requests go out in an open loop: Next returns the
// intended send time of the next request as an offset from the start of the
// load. Each worker owns one Pacer, for its share of the rate.
type Pacer interface {
	Next() time.Duration
}

// ConstantPacer spaces arrivals evenly at Rate requests per second.
type ConstantPacer struct {
	Rate float64
	n    float64
}

// Next implements Pacer.
func (p *ConstantPacer) Next() time.Duration {
	d := time.Duration(p.n / p.Rate * float64(time.Second))
	p.n++
	return d
}

// PoissonPacer draws exponentially distributed gaps with mean 1/Rate.
type PoissonPacer struct {
	Rate float64
	at   float64
	r    *rand.Rand
}

// NewPoissonPacer returns a Poisson pacer seeded by seed.
func NewPoissonPacer(rate float64, seed uint64) *PoissonPacer {
	return &PoissonPacer{Rate: rate, r: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// Next implements Pacer.
func (p *PoissonPacer) Next() time.Duration {
	d := time.Duration(math.Min(p.at, math.MaxInt64/2))
	p.at += p.r.ExpFloat64() / p.Rate * float64(time.Second)
	return d
}

// newPacer returns worker i's pacer for its share of the rate, nil for a
// closed loop. Workers start staggered so that their arrivals interleave.
func newPacer(c *Config, i int) Pacer {
	share := c.Rate / float64(c.Threads)
	switch c.Arrival {
	case ArrivalConstant:
		return &ConstantPacer{Rate: share, n: float64(i) / float64(c.Threads)}
	case ArrivalPoisson:
		return NewPoissonPacer(share, c.Seed+uint64(i))
	}
	return nil
}
