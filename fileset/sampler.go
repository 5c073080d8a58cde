package fileset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Zipf is a Zipf distribution over ranks 0..n-1: rank k has probability
// proportional to 1/(k+1)^s. It samples by binary search over the cumulative
// distribution, so any s >= 0 works (math/rand's Zipf needs s > 1).
type Zipf struct {
	cdf []float64
}

// NewZipf returns the Zipf distribution with exponent s over n ranks.
// It panics if n < 1 or s is negative or not finite.
func NewZipf(n int, s float64) *Zipf {
	if n < 1 || s < 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		panic(fmt.Sprintf("fileset: invalid zipf(n=%d, s=%g)", n, s))
	}
	cdf := make([]float64, n)
	sum := 0.0
	for k := range cdf {
		sum += math.Pow(float64(k+1), -s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	cdf[n-1] = 1
	return &Zipf{cdf: cdf}
}

// N returns the number of ranks.
func (z *Zipf) N() int { return len(z.cdf) }

// Prob returns the probability of rank k.
func (z *Zipf) Prob(k int) float64 {
	if k == 0 {
		return z.cdf[0]
	}
	return z.cdf[k] - z.cdf[k-1]
}

// Rank maps a uniform variate u in [0,1) to a rank.
func (z *Zipf) Rank(u float64) int {
	k := sort.SearchFloat64s(z.cdf, u)
	if k < len(z.cdf) && z.cdf[k] == u {
		k++ // ranks own the half-open interval [cdf[k-1], cdf[k])
	}
	return min(k, len(z.cdf)-1)
}

// Sample draws a rank using r.
func (z *Zipf) Sample(r *rand.Rand) int { return z.Rank(r.Float64()) }

// Sampler draws the files of a set in SPECweb99 proportions: a class by
// ClassMix, a file within the class by Zipf(1.0) over FileRankOrder, and a
// directory by Zipf(1.0) over the directories (dir00000 the most popular).
// Fixed and single sets are drawn uniformly. A Sampler is deterministic for a
// seed and is not safe for concurrent use: give each worker its own.
type Sampler struct {
	rng      *rand.Rand
	files    []File
	grid     grid
	classCDF [Classes]float64
	rank     *Zipf
	dir      *Zipf
}

// NewSampler returns a sampler over m's files seeded by seed. m must be valid
// (as ReadManifest and Generate return it); NewSampler panics otherwise,
// because a sampler over a malformed set would silently skew a benchmark.
func NewSampler(m *Manifest, seed uint64) *Sampler {
	if err := m.Validate(); err != nil {
		panic("fileset: sampler over an invalid manifest: " + err.Error())
	}
	s := &Sampler{rng: rand.New(rand.NewPCG(seed, 0x666c617368)), files: m.Files}
	if !m.Kind.structured() {
		return s
	}
	s.grid, _ = buildGrid(m)
	sum := 0.0
	for c, p := range ClassMix {
		sum += p
		s.classCDF[c] = sum
	}
	s.classCDF[Classes-1] = 1
	s.rank = NewZipf(FilesPerClass, 1)
	s.dir = NewZipf(len(s.grid), 1)
	return s
}

// Next returns the next file to request. The File points into the manifest.
func (s *Sampler) Next() *File {
	if s.grid == nil {
		return &s.files[s.rng.IntN(len(s.files))]
	}
	u := s.rng.Float64()
	c := 0
	for c < Classes-1 && u >= s.classCDF[c] {
		c++
	}
	f := FileRankOrder[s.rank.Sample(s.rng)]
	d := s.dir.Sample(s.rng)
	return s.grid[d][c][f]
}
