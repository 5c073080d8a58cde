package report_test

import (
	"strings"
	"testing"

	"flashbench/harness/report"
	"flashbench/results"
)

func count(calls map[string]int64) results.Map[results.SyscallCount] {
	m := results.Map[results.SyscallCount]{}
	for k, v := range calls {
		m[k] = results.SyscallCount{Calls: v}
	}
	return m
}

// TestSyscallCells lays out counts of two settings: rows in the
// experiment's order at each setting (numbers in numeric order), each
// ratio against the first contender at the same setting, a failed count
// with its reason, and the most frequent calls per connection.
func TestSyscallCells(t *testing.T) {
	docs := []*results.Syscalls{
		{Arch: "sped", Params: results.Map[any]{"file_size_bytes": 51200.0}, Connections: 100, CallsPerConnection: 6, CallsPerRequest: 6,
			Calls: count(map[string]int64{"accept4": 106, "read": 100, "close": 100, "sendmsg": 100, "epoll_ctl": 100, "ioctl": 100, "futex": 4})},
		{Arch: "nginx", Params: results.Map[any]{"file_size_bytes": 51200.0}, Connections: 100, CallsPerConnection: 12, CallsPerRequest: 12,
			Calls: count(map[string]int64{"close": 200})},
		{Arch: "sped", Params: results.Map[any]{"file_size_bytes": 500.0}, Connections: 100, CallsPerConnection: 5, CallsPerRequest: 5,
			Calls: count(map[string]int64{"close": 100})},
		{Arch: "forking", Params: results.Map[any]{"file_size_bytes": 500.0}, Error: "strace not found (apt-get install strace)"},
		{Arch: "nginx", Params: results.Map[any]{"file_size_bytes": 500.0}, Connections: 100, CallsPerConnection: 10, CallsPerRequest: 10,
			Calls: count(map[string]int64{"close": 200})},
	}
	header, rows := report.SyscallCells(docs, []string{"nginx", "sped", "forking"})
	if got, want := strings.Join(header, "|"), "contender|setting|calls/conn|calls/req|vs nginx|top calls per connection"; got != want {
		t.Errorf("header: got %q, want %q", got, want)
	}
	want := []string{
		"nginx|file_size_bytes=500|10.0|10.0|1.00|close 2.00",
		"sped|file_size_bytes=500|5.00|5.00|0.50|close 1.00",
		"forking|file_size_bytes=500|–|–|–|failed: strace not found (apt-get install strace)",
		"nginx|file_size_bytes=51200|12.0|12.0|1.00|close 2.00",
		"sped|file_size_bytes=51200|6.00|6.00|0.50|accept4 1.06, close 1.00, epoll_ctl 1.00, ioctl 1.00, read 1.00, sendmsg 1.00",
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %q", len(rows), len(want), rows)
	}
	for i, r := range rows {
		if got := strings.Join(r, "|"); got != want[i] {
			t.Errorf("row %d: got %q, want %q", i, got, want[i])
		}
	}
}

// TestSyscallCellsNoReference: without the reference's count at a
// setting, the ratio is a dash.
func TestSyscallCellsNoReference(t *testing.T) {
	docs := []*results.Syscalls{{Arch: "sped", Connections: 10, CallsPerConnection: 6, CallsPerRequest: 6, Calls: count(map[string]int64{"read": 60})}}
	_, rows := report.SyscallCells(docs, []string{"nginx", "sped"})
	if got, want := strings.Join(rows[0], "|"), "sped|–|6.00|6.00|–|read 6.00"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
