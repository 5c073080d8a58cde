package fileset_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"flashbench/fileset"
)

// chi2Critical001 holds the chi-square critical values at p = 0.001.
var chi2Critical001 = map[int]float64{3: 16.266, 8: 26.124, 9: 27.877, 30: 59.703}

// chiSquare returns the goodness-of-fit statistic of counts against probs.
func chiSquare(counts []int, probs []float64) float64 {
	n := 0
	for _, c := range counts {
		n += c
	}
	stat := 0.0
	for i, c := range counts {
		exp := probs[i] * float64(n)
		stat += (float64(c) - exp) * (float64(c) - exp) / exp
	}
	return stat
}

func zipfProbs(n int) []float64 {
	z := fileset.NewZipf(n, 1)
	p := make([]float64, n)
	for k := range p {
		p[k] = z.Prob(k)
	}
	return p
}

// traceCounts draws n requests through the trace format and tallies them.
func traceCounts(t *testing.T, m *fileset.Manifest, seed uint64, n int) (class []int, rank [][]int, dir []int) {
	t.Helper()
	var buf bytes.Buffer
	if err := fileset.WriteTrace(&buf, "test", fileset.NewSampler(m, seed), n); err != nil {
		t.Fatal(err)
	}
	paths, err := fileset.ReadTrace(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != n {
		t.Fatalf("trace: got %d requests, want %d", len(paths), n)
	}
	var rankOf [fileset.FilesPerClass]int
	for r, f := range fileset.FileRankOrder {
		rankOf[f] = r
	}
	class, dir = make([]int, fileset.Classes), make([]int, m.Directories)
	rank = make([][]int, fileset.Classes)
	for c := range rank {
		rank[c] = make([]int, fileset.FilesPerClass)
	}
	for _, p := range paths {
		var d, c, f int
		if _, err := fmt.Sscanf(p, "/dir%05d/class%d_%d", &d, &c, &f); err != nil {
			t.Fatalf("trace line %q: %v", p, err)
		}
		class[c]++
		rank[c][rankOf[f]]++
		dir[d]++
	}
	return class, rank, dir
}

func TestSamplerFollowsSPECweb99Distributions(t *testing.T) {
	m, _ := sharedSPECweb99(t)
	class, rank, dir := traceCounts(t, m, 20260101, 200000)

	mix := fileset.ClassMix[:]
	if stat := chiSquare(class, mix); stat > chi2Critical001[3] {
		t.Errorf("class mix: chi-square %.2f over 3 d.o.f., want <= %.3f (counts %v)", stat, chi2Critical001[3], class)
	}
	for c := range rank {
		if stat := chiSquare(rank[c], zipfProbs(9)); stat > chi2Critical001[8] {
			t.Errorf("class %d file ranks: chi-square %.2f over 8 d.o.f., want <= %.3f (counts %v)", c, stat, chi2Critical001[8], rank[c])
		}
	}
	if stat := chiSquare(dir, zipfProbs(31)); stat > chi2Critical001[30] {
		t.Errorf("directories: chi-square %.2f over 30 d.o.f., want <= %.3f", stat, chi2Critical001[30])
	}

	// The same statistics must reject wrong hypotheses, or the checks above prove nothing.
	uniform4 := []float64{0.25, 0.25, 0.25, 0.25}
	if stat := chiSquare(class, uniform4); stat < chi2Critical001[3] {
		t.Errorf("class mix against a uniform mix: chi-square %.2f, want > %.3f", stat, chi2Critical001[3])
	}
	byFile := make([]int, 9)
	for r, f := range fileset.FileRankOrder {
		byFile[f] = rank[1][r]
	}
	if stat := chiSquare(byFile, zipfProbs(9)); stat < chi2Critical001[8] {
		t.Errorf("class 1 ranks ignoring the rank order: chi-square %.2f, want > %.3f", stat, chi2Critical001[8])
	}
}

func TestSamplerDeterministic(t *testing.T) {
	m, _ := sharedSPECweb99(t)
	a, b, c := fileset.NewSampler(m, 5), fileset.NewSampler(m, 5), fileset.NewSampler(m, 6)
	same, differ := true, false
	for range 1000 {
		fa, fb, fc := a.Next(), b.Next(), c.Next()
		same = same && fa == fb
		differ = differ || fa != fc
	}
	if !same || !differ {
		t.Errorf("seed 5 twice: same=%v, want true; seeds 5 and 6: differ=%v, want true", same, differ)
	}
}

func TestSamplerUniformOverFixedSet(t *testing.T) {
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: t.TempDir(), Seed: 1, SizeBytes: 1, Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	index := map[*fileset.File]int{}
	for i := range m.Files {
		index[&m.Files[i]] = i
	}
	s := fileset.NewSampler(m, 9)
	counts := make([]int, 10)
	for range 50000 {
		counts[index[s.Next()]]++
	}
	probs := make([]float64, 10)
	for i := range probs {
		probs[i] = 0.1
	}
	if stat := chiSquare(counts, probs); stat > chi2Critical001[9] {
		t.Errorf("fixed set: chi-square %.2f over 9 d.o.f., want <= %.3f (counts %v)", stat, chi2Critical001[9], counts)
	}
}

func TestZipf(t *testing.T) {
	z := fileset.NewZipf(4, 1)
	h := 1 + 1.0/2 + 1.0/3 + 1.0/4
	for k := range 4 {
		if got, want := z.Prob(k), 1/float64(k+1)/h; math.Abs(got-want) > 1e-12 {
			t.Errorf("Prob(%d): got %g, want %g", k, got, want)
		}
	}
	tests := []struct {
		u    float64
		want int
	}{{0, 0}, {0.47, 0}, {z.Prob(0), 1}, {0.99999, 3}}
	for _, tt := range tests {
		if got := z.Rank(tt.u); got != tt.want {
			t.Errorf("Rank(%g): got %d, want %d", tt.u, got, tt.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		if k := z.Sample(r); k < 0 || k >= z.N() {
			t.Fatalf("Sample: got rank %d, want 0..%d", k, z.N()-1)
		}
	}
}

func TestDirectories(t *testing.T) {
	tests := []struct{ connections, want int }{{1, 25}, {10, 31}, {100, 90}, {1000, 680}}
	for _, tt := range tests {
		if got := fileset.Directories(tt.connections); got != tt.want {
			t.Errorf("Directories(%d): got %d, want %d", tt.connections, got, tt.want)
		}
	}
}
