package report

import (
	"slices"
	"strings"
)

// archNotes explain, in a report, the architectures a reader of the papers
// does not know: those that go past them.
var archNotes = map[string]string{
	"uring": "uring is flashbench's AMPED on io_uring (Linux 5.1 and later): one thread whose accepts, receives, sends and closes go through one ring of asynchronous operations, and whose translation misses and non-resident data are lookups and reads on the same ring instead of jobs for helper processes; its persistent CGI programs answer over pipes polled on the ring, or through a shared-memory pool. " +
		"It asks the HotOS 1997 paper's question of today's Linux: whether a generic kernel interface makes AMPED's helpers unnecessary.",
	"uring-shm": "uring-shm is uring whose persistent CGI programs answer through a shared-memory pool, as flashlite's do. " +
		"The ring sends no file ranges, so every body leaves by sendmsg straight from the shared pages, one copy into the socket.",
	"uring-zc": "uring-zc is uring sending responses of 16 KiB and more by zero-copy sendmsg (IORING_OP_SENDMSG_ZC), the socket referencing the mapped pages until the kernel's notification. " +
		"Between two sockets of one machine the receiving side copies the pages anyway; the stats file counts those sends (zc_copied).",
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
