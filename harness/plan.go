package harness

import (
	"fmt"
	"slices"
	"strings"
)

// Cell is one server configuration of a run: an architecture at one value of
// the sweep. The server is started once per cell, verified and warmed up,
// and then measured Trials times.
type Cell struct {
	Arch string
	// Param is the sweep parameter ("" without a sweep) and Value its value
	// in this cell (int64, or string for caches).
	Param string
	Value any
}

// Params returns the cell's sweep parameters as config.extra.params holds them.
func (c Cell) Params() map[string]any {
	if c.Param == "" {
		return map[string]any{}
	}
	return map[string]any{c.Param: c.Value}
}

// PointID names trial n of the cell: "amped-file_size_bytes=500-trial=1".
// It is also the point's result file name, without ".json".
func (c Cell) PointID(trial int) string {
	return fmt.Sprintf("%s-trial=%d", c.Name(), trial)
}

// Name names the cell: "amped-file_size_bytes=500", or the architecture
// alone without a sweep. Its server log and system call count are named
// after it.
func (c Cell) Name() string {
	if c.Param == "" {
		return c.Arch
	}
	return fmt.Sprintf("%s-%s=%v", c.Arch, c.Param, c.Value)
}

// Cells lists the run's cells: for each sweep value, each architecture, so
// that the architectures measured at one value are close in time.
func (e *Experiment) Cells(archs []string) []Cell {
	if e.Sweep == nil {
		out := make([]Cell, len(archs))
		for i, a := range archs {
			out[i] = Cell{Arch: a}
		}
		return out
	}
	var out []Cell
	for _, v := range e.Sweep.Values {
		for _, a := range archs {
			out = append(out, Cell{Arch: a, Param: e.Sweep.Param, Value: v})
		}
	}
	return out
}

// SweepSubset returns a copy of e that sweeps only values, each written
// as the experiment writes it, in the experiment's order: a long sweep's
// points of interest, measured alone.
func (e *Experiment) SweepSubset(values []string) (*Experiment, error) {
	if e.Sweep == nil {
		return nil, fmt.Errorf("values %s: %s sweeps nothing", strings.Join(values, ","), e.Name)
	}
	var have []string
	for _, v := range e.Sweep.Values {
		have = append(have, fmt.Sprint(v))
	}
	var keep []any
	for _, v := range values {
		i := slices.Index(have, v)
		if i < 0 {
			return nil, fmt.Errorf("values: %q is not a %s of %s (%s)", v, e.Sweep.Param, e.Name, strings.Join(have, ", "))
		}
		if !slices.Contains(keep, e.Sweep.Values[i]) {
			keep = append(keep, e.Sweep.Values[i])
		}
	}
	sub := *e
	sweep := *e.Sweep
	sweep.Values = slices.DeleteFunc(slices.Clone(e.Sweep.Values), func(v any) bool { return !slices.Contains(keep, v) })
	sub.Sweep = &sweep
	return &sub, nil
}

// cellFileSet returns the file set options a cell needs.
func (e *Experiment) cellFileSet(c Cell) FileSet {
	fs := e.FileSet
	switch c.Param {
	case ParamFileSize:
		fs.SizeBytes = c.Value.(int64)
	case ParamDatasetBytes:
		fs.Count = int(max(1, c.Value.(int64)/fs.SizeBytes))
	}
	return fs
}

// cellConnections returns the client connections of a cell.
func (e *Experiment) cellConnections(c Cell) int {
	if c.Param == ParamClients || c.Param == ParamConnections {
		return int(c.Value.(int64))
	}
	return e.Load.Connections
}

// cacheFlags returns the webserver flags that turn off the caches a caches
// value leaves out.
func cacheFlags(combo string) []string {
	on := map[string]bool{}
	for _, c := range strings.Split(combo, "+") {
		on[c] = true
	}
	var flags []string
	for _, c := range []struct{ name, flag string }{
		{"path", "--no-pathname-cache"}, {"header", "--no-header-cache"}, {"mmap", "--no-mmap-cache"},
	} {
		if !on[c.name] {
			flags = append(flags, c.flag)
		}
	}
	return flags
}
