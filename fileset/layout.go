package fileset

import (
	"fmt"
	"math"
)

// Classes and FilesPerClass give the shape of a SPECweb directory.
const (
	Classes       = 4
	FilesPerClass = 9
)

// ClassMix is the SPECweb96/99 share of requests that go to each class.
var ClassMix = [Classes]float64{0.35, 0.50, 0.14, 0.01}

// FileRankOrder lists the files of a class from the most to the least popular:
// SPECweb99 gives Zipf rank 1 to file 4, rank 2 to file 3, and so on.
var FileRankOrder = [FilesPerClass]int{4, 3, 5, 2, 6, 1, 7, 8, 0}

// spec99Base is the SPECweb99 size base per class: file F is base*(F+1)/10.
var spec99Base = [Classes]int64{1024, 10240, 102400, 1024000}

// Directories returns the SPECweb99 directory count for a number of
// simultaneous connections: int(25 + (400000/122000*connections)/5).
func Directories(connections int) int {
	return int(25 + (400000.0/122000.0*float64(connections))/5)
}

// FileSize returns the size in bytes of file f of class c in a SPECweb set of
// the given kind, or -1 when the kind has no classes.
func FileSize(kind Kind, c, f int) int64 {
	switch kind {
	case KindSPECweb99:
		return spec99Base[c] * int64(f+1) / 10
	case KindSPECweb96:
		if c == 0 {
			return int64(math.Round(102.4 * float64(f+1)))
		}
		return int64(math.Pow10(c-1)) * 1024 * int64(f+1)
	}
	return -1
}

// specPath names file f of class c in directory d.
func specPath(d, c, f int) string { return fmt.Sprintf("dir%05d/class%d_%d", d, c, f) }

// plan is a file to generate, before its checksum is known.
type plan struct {
	path  string
	size  int64
	class int
}

// layout lists the files of the set opts describes, in generation order.
func layout(opts Options) []plan {
	switch opts.Kind {
	case KindSPECweb99, KindSPECweb96:
		n := Directories(opts.Connections)
		out := make([]plan, 0, n*Classes*FilesPerClass)
		for d := 0; d < n; d++ {
			for c := 0; c < Classes; c++ {
				for f := 0; f < FilesPerClass; f++ {
					out = append(out, plan{specPath(d, c, f), FileSize(opts.Kind, c, f), c})
				}
			}
		}
		return out
	case KindFixed:
		out := make([]plan, opts.Count)
		for i := range out {
			out[i] = plan{fmt.Sprintf("fixed/f%06d", i), opts.SizeBytes, 0}
		}
		return out
	case KindSingle:
		return []plan{{"single/file", opts.SizeBytes, 0}}
	}
	return nil
}

// grid indexes a SPECweb set: grid[d][c][f] is file f of class c in directory d.
type grid [][Classes][FilesPerClass]*File

// buildGrid indexes m's files and checks that every directory holds exactly the
// 36 files of its kind, with the right class and size.
func buildGrid(m *Manifest) (grid, error) {
	if m.Directories <= 0 || m.Directories > 1<<20 {
		return nil, fmt.Errorf("directories %d out of range", m.Directories)
	}
	if want := m.Directories * Classes * FilesPerClass; len(m.Files) != want {
		return nil, fmt.Errorf("%d files, want %d for %d directories", len(m.Files), want, m.Directories)
	}
	g := make(grid, m.Directories)
	for i := range m.Files {
		file := &m.Files[i]
		var d, c, f int
		n, err := fmt.Sscanf(file.Path, "dir%05d/class%1d_%1d", &d, &c, &f)
		if err != nil || n != 3 || file.Path != specPath(d, c, f) {
			return nil, fmt.Errorf("file %q: not a %s path", file.Path, m.Kind)
		}
		if d < 0 || d >= m.Directories || c < 0 || c >= Classes || f < 0 || f >= FilesPerClass {
			return nil, fmt.Errorf("file %q: outside the set", file.Path)
		}
		if file.Class != c || file.SizeBytes != FileSize(m.Kind, c, f) {
			return nil, fmt.Errorf("file %q: class %d size %d, want class %d size %d",
				file.Path, file.Class, file.SizeBytes, c, FileSize(m.Kind, c, f))
		}
		g[d][c][f] = file
	}
	return g, nil
}
