package report

import (
	"fmt"
	"slices"
	"strings"
)

// maxLatencyPlots caps the settings of one experiment that get latency
// plots: a sweep shows its first, middle and last settings.
const maxLatencyPlots = 4

// plots renders the section's plots: for a sweep, its metric against the
// swept parameter; otherwise, setting by setting, the metric's bars and
// beside them the server's CPU per request; then the latency percentiles.
func (s *section) plots() ([]Plot, error) {
	if len(s.Groups) == 0 {
		return nil, nil
	}
	var figs []*figure
	var err error
	if x := xParam(s.Groups, s.ParamKeys); x != "" {
		figs, err = s.sweepFigures(x)
	} else {
		figs, err = s.barFigures()
	}
	if err != nil {
		return nil, err
	}
	lat, err := s.latencyFigures()
	if err != nil {
		return nil, err
	}
	var out []Plot
	for _, f := range append(figs, lat...) {
		p, err := render(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// titlePrefix starts the section's plot titles: the paper figure it
// reproduces, else the experiment's name.
func (s *section) titlePrefix() string {
	if s.Exp.Figure != "" {
		return s.Exp.Figure
	}
	return s.Experiment
}

// sweepFigures plots the ratio metric, and the bandwidth of a file-size
// sweep, against the swept parameter x.
func (s *section) sweepFigures(x string) ([]*figure, error) {
	base, prefix, m := plotName(s.Experiment), s.titlePrefix(), s.RatioMetric
	others := slices.DeleteFunc(varying(s.Groups, s.ParamKeys), func(k string) bool { return k == x })
	metrics := []Metric{m}
	if bw, _ := MetricByName("bytes_per_s"); strings.HasSuffix(x, "_bytes") && m.Name != bw.Name {
		metrics = append(metrics, bw)
	}
	var out []*figure
	for _, m := range metrics {
		f, err := sweepFigure(base+"-"+m.Name, fmt.Sprintf("%s: %s vs %s", prefix, m.Label, paramLabel(x)), x, m, s.Groups, others)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// barFigures plots, for each setting, the ratio metric's bars, largest
// first, and the server's CPU per request in the same order when the
// results measured it.
func (s *section) barFigures() ([]*figure, error) {
	base, prefix, m := plotName(s.Experiment), s.titlePrefix(), s.RatioMetric
	cpu, _ := MetricByName("server_cpu_per_request_us")
	ref := s.reference()
	var out []*figure
	for i, set := range settingsOf(s.Groups) {
		suffix := ""
		if set.key != "" {
			suffix = ", " + settingLabel(set.key)
		}
		bars, order := rankedBars(m, set.groups)
		if len(bars) == 0 {
			continue
		}
		f, err := barFigure(fmt.Sprintf("%s-%s-%d", base, m.Name, i+1), prefix+": "+m.Label+suffix, m, bars, ref)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
		if cost := orderedBars(cpu, set.groups, order); len(cost) > 0 && m.Name != cpu.Name {
			title := prefix + ": server CPU per request" + suffix
			f, err := barFigure(fmt.Sprintf("%s-%s-%d", base, cpu.Name, i+1), title, cpu, cost, ref)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// latencyFigures plots the latency percentiles of up to maxLatencyPlots
// settings; an open-loop run's corrected and uncorrected side by side.
func (s *section) latencyFigures() ([]*figure, error) {
	base, prefix := plotName(s.Experiment), s.titlePrefix()
	var out []*figure
	for i, set := range latencySettings(s.Groups) {
		title := prefix + ": latency percentiles"
		if set.key != "" {
			title += ", " + settingLabel(set.key)
		}
		for _, h := range latencyHistograms(set.groups) {
			f, err := latencyFigure(fmt.Sprintf("%s-latency-%d%s", base, i+1, h.suffix), title+h.note, h.hist, set.groups)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// setting is one parameter setting's groups.
type setting struct {
	key    string
	groups []*Group
}

// settingsOf splits groups by setting, in their order.
func settingsOf(groups []*Group) []setting {
	var all []setting
	index := map[string]int{}
	for _, g := range groups {
		i, ok := index[g.Key]
		if !ok {
			i = len(all)
			index[g.Key] = i
			all = append(all, setting{key: g.Key})
		}
		all[i].groups = append(all[i].groups, g)
	}
	return all
}

// latencySettings picks the settings that get a latency plot: all of them
// up to maxLatencyPlots, else the first, middle and last.
func latencySettings(groups []*Group) []setting {
	all := settingsOf(groups)
	if len(all) <= maxLatencyPlots {
		return all
	}
	return []setting{all[0], all[len(all)/2], all[len(all)-1]}
}
