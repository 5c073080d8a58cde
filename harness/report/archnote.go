package report

import (
	"slices"
	"strings"
)

// archNotes explain, in a report, the architectures a reader of the papers
// does not know: those that go past them.
var archNotes = map[string]string{
	"uring": "uring is flashbench's AMPED on io_uring (Linux 5.1 and later): one thread whose accepts, receives, sends and closes go through one ring of asynchronous operations, and whose translation misses and non-resident data are lookups and reads on the same ring instead of jobs for helper processes; its persistent CGI programs answer over pipes polled on the ring. " +
		"It asks the HotOS 1997 paper's question of today's Linux: whether a generic kernel interface makes AMPED's helpers unnecessary.",
}

// ArchNotes are the notes of the architectures the section measured, in
// the order of its groups.
func (s *section) ArchNotes() []string {
	var seen, out []string
	for _, g := range s.Groups {
		arch, _ := strings.CutSuffix(g.Arch, BaseSuffix)
		if note, ok := archNotes[arch]; ok && !slices.Contains(seen, arch) {
			seen, out = append(seen, arch), append(out, note)
		}
	}
	return out
}
