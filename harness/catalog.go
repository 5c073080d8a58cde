package harness

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// experimentFiles are the experiment files shipped in harness/experiments,
// built in so that `harness list` and `harness run NAME` work from anywhere.
//
//go:embed experiments/*.toml
var experimentFiles embed.FS

// Experiments returns every built-in experiment, sorted by name.
func Experiments() ([]*Experiment, error) {
	names, err := fs.Glob(experimentFiles, "experiments/*.toml")
	if err != nil {
		return nil, fmt.Errorf("experiments: %w", err)
	}
	var out []*Experiment
	for _, n := range names {
		b, err := experimentFiles.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("experiments: %w", err)
		}
		e, err := ParseExperiment(path.Base(n), b)
		if err != nil {
			return nil, err
		}
		if want := strings.TrimSuffix(path.Base(n), ".toml"); e.Name != want {
			return nil, fmt.Errorf("experiment %s: name %q, want %q (the file's name)", n, e.Name, want)
		}
		out = append(out, e)
	}
	// By name, not file name: "hotos97" before "hotos97-cgi".
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// LookupExperiment returns the built-in experiment called name or, when
// name ends in .toml, the experiment in that file.
func LookupExperiment(name string) (*Experiment, error) {
	if strings.HasSuffix(name, ".toml") {
		return ReadExperiment(name)
	}
	all, err := Experiments()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range all {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return nil, fmt.Errorf("experiment %q: not found (built in: %s; or give a .toml file)", name, strings.Join(names, ", "))
}
