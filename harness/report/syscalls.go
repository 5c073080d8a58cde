package report

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"flashbench/results"
)

// SyscallsDir is the folder of a run directory that holds the system call
// counts of its contenders, one results.Syscalls document each.
const SyscallsDir = "syscalls"

// topSyscalls is how many system calls a row of the table names.
const topSyscalls = 6

// LoadSyscalls reads the system call counts of the run in dir; a run
// without any has none. A document that does not read is an error naming
// it.
func LoadSyscalls(dir string) ([]*results.Syscalls, error) {
	files, err := filepath.Glob(filepath.Join(dir, SyscallsDir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("load syscalls: %w", err)
	}
	var out []*results.Syscalls
	for _, f := range files {
		s, err := results.ReadSyscalls(f)
		if err != nil {
			return nil, fmt.Errorf("load syscalls: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// SyscallCells lays system call counts out as a table, a row per
// contender in the order of archs at each setting: its calls per
// connection and per request, their ratio to the reference's calls per
// connection at the same setting (the reference is archs[0], the
// experiment's first contender) and its most frequent calls per
// connection. A failed count says why.
func SyscallCells(docs []*results.Syscalls, archs []string) (header []string, rows [][]string) {
	ref := ""
	if len(archs) > 0 {
		ref = archs[0]
	}
	header = []string{"contender", "setting", "calls/conn", "calls/req", "vs " + orDash(ref), "top calls per connection"}
	sorted, o := slices.Clone(docs), newOrder()
	for _, d := range sorted {
		o.see(d.Experiment, d.Arch, d.Params)
	}
	slices.SortStableFunc(sorted, func(a, b *results.Syscalls) int {
		return cmp.Or(o.compareParams(a.Params, b.Params), cmp.Compare(ArchRank(archs, a.Arch), ArchRank(archs, b.Arch)))
	})
	for _, d := range sorted {
		setting := orDash(ParamsKey(d.Params))
		if d.Error != "" {
			rows = append(rows, []string{d.Arch, setting, "–", "–", "–", "failed: " + d.Error})
			continue
		}
		rows = append(rows, []string{d.Arch, setting, FormatValue(d.CallsPerConnection), FormatValue(d.CallsPerRequest),
			refRatio(d, sorted, ref), TopPerConnection(d, topSyscalls)})
	}
	return header, rows
}

// refRatio is d's calls per connection over the reference's at d's
// setting, "–" when the reference has no count there.
func refRatio(d *results.Syscalls, docs []*results.Syscalls, ref string) string {
	key := ParamsKey(d.Params)
	for _, r := range docs {
		if r.Arch == ref && ParamsKey(r.Params) == key && r.Error == "" && r.CallsPerConnection > 0 {
			return strconv.FormatFloat(d.CallsPerConnection/r.CallsPerConnection, 'f', 2, 64)
		}
	}
	return "–"
}

// TopPerConnection names d's n most frequent system calls with their
// calls per connection: "accept4 1.06, read 1.00, sendmsg 1.00".
func TopPerConnection(d *results.Syscalls, n int) string {
	if d.Connections == 0 {
		return "–"
	}
	names := make([]string, 0, len(d.Calls))
	for name := range d.Calls {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(d.Calls[b].Calls, d.Calls[a].Calls), cmp.Compare(a, b))
	})
	var parts []string
	for _, name := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.2f", name, float64(d.Calls[name].Calls)/float64(d.Connections)))
	}
	return strings.Join(parts, ", ")
}

// syscallNote says how the system call table was measured.
const syscallNote = "System calls per connection and per request, counted with strace -c -f attached to the server's " +
	"whole process tree (every process, its threads, and the children it starts) in one unmeasured pass per contender " +
	"after the measured rounds, with the experiment's connection model; calls of the Go runtime (futex, nanosleep) count too. " +
	"Calls that depend on timing (epoll_wait's, futex's, accept4's EAGAIN) vary from pass to pass; " +
	"the calls that serve a connection do not."
