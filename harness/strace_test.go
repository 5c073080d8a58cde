package harness_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/results"
)

// TestParseStraceCounts reads strace -c -f tables captured from real
// passes of the harness (servers-close, 3000 requests, one per
// connection): sped alone, nginx's master and worker, prefork's 33
// processes, and forking's child per connection, whose table follows
// the lines strace writes for tracees that left inside a system call.
func TestParseStraceCounts(t *testing.T) {
	tests := []struct {
		file  string
		total results.SyscallCount
		calls map[string]results.SyscallCount
		rows  int
	}{
		{"sped-close.strace", results.SyscallCount{Calls: 18365, Errors: 11}, map[string]results.SyscallCount{
			"accept4": {Calls: 3008, Errors: 7}, "close": {Calls: 3002}, "sendmsg": {Calls: 3000}}, 16},
		{"nginx-close.strace", results.SyscallCount{Calls: 33011}, map[string]results.SyscallCount{
			"close": {Calls: 6001}, "accept4": {Calls: 3001}, "sendfile": {Calls: 3000}}, 10},
		{"prefork-close.strace", results.SyscallCount{Calls: 47686, Errors: 219}, map[string]results.SyscallCount{
			"accept4": {Calls: 3001}, "sendmsg": {Calls: 3000}, "close": {Calls: 3098}}, 29},
		{"forking-close.strace", results.SyscallCount{Calls: 1659276, Errors: 25649}, map[string]results.SyscallCount{
			"clone": {Calls: 3001}, "execve": {Calls: 3001}, "accept4": {Calls: 3004, Errors: 3}, "close": {Calls: 50608}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c := parseFile(t, filepath.Join("testdata", "strace", tt.file))
			if c.Total != tt.total {
				t.Errorf("total: got %+v, want %+v", c.Total, tt.total)
			}
			for name, want := range tt.calls {
				if got := c.Calls[name]; got != want {
					t.Errorf("%s: got %+v, want %+v", name, got, want)
				}
			}
			if tt.rows > 0 && len(c.Calls) != tt.rows {
				t.Errorf("got %d system calls, want %d", len(c.Calls), tt.rows)
			}
			checkSums(t, c)
		})
	}
}

func parseFile(t *testing.T, path string) *harness.StraceCounts {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := harness.ParseStraceCounts(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// checkSums checks that the rows add up to the total and that no row has
// more errors than calls.
func checkSums(t *testing.T, c *harness.StraceCounts) {
	t.Helper()
	var sum results.SyscallCount
	for name, n := range c.Calls {
		if name == "" || n.Errors > n.Calls || n.Calls < 0 || n.Errors < 0 {
			t.Errorf("row %q: got %+v, want a name and 0 <= errors <= calls", name, n)
		}
		sum.Calls += n.Calls
		sum.Errors += n.Errors
	}
	if sum != c.Total {
		t.Errorf("rows add up to %+v, total %+v", sum, c.Total)
	}
}

// TestParseStraceCountsTwoPersonalities adds the tables of a 64-bit and
// a 32-bit tracee.
func TestParseStraceCountsTwoPersonalities(t *testing.T) {
	text := `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 60.00    0.000600           2       300        10 read
 40.00    0.000400           2       200           close
------ ----------- ----------- --------- --------- ----------------
100.00    0.001000           2       500        10 total
System call usage summary for 32 bit mode:
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.000100           1         7         1 read
------ ----------- ----------- --------- --------- ----------------
100.00    0.000100           1         7         1 total
`
	c, err := harness.ParseStraceCounts(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := results.SyscallCount{Calls: 507, Errors: 11}
	if c.Total != want || c.Calls["read"] != (results.SyscallCount{Calls: 307, Errors: 11}) {
		t.Errorf("got total %+v, read %+v; want %+v and 307 calls, 11 errors", c.Total, c.Calls["read"], want)
	}
}

func TestParseStraceCountsErrors(t *testing.T) {
	const header = "% time     seconds  usecs/call     calls    errors syscall\n------ ----------- ----------- --------- --------- ----------------\n"
	const row = " 50.00    0.000500           2       300        10 read\n"
	const total = "100.00    0.001000           2       300        10 total\n"
	tests := []struct{ name, text, want string }{
		{"empty", "", "no total row"},
		{"no total", header + row, "no total row"},
		{"cut in a row", header + " 50.00    0.000500", "want 5 or 6 columns"},
		{"total off", header + row + "100.00    0.001000           2       301        10 total\n", "the rows add up to 300 and 10"},
		{"errors above calls", header + " 50.00    0.000500           2       3        10 read\n" + total, `errors "10": want a count up to the calls`},
		{"calls not a count", header + " 50.00    0.000500           2       x        10 read\n" + total, `calls "x"`},
		{"negative calls", header + " 50.00    0.000500           2       -3 read\n" + total, `calls "-3"`},
		{"time not a number", header + " fifty    0.000500           2       300        10 read\n" + total, `"fifty" is not a number`},
		{"no name", header + " 50.00    0.000500           2       300        10\n" + total, "no system call name"},
		{"text before the header", "strace: Process 1 attached\n" + header + row + total, "before the table's header"},
		{"header twice", header + row + header, "a header inside a table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := harness.ParseStraceCounts(strings.NewReader(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got error %v, want one line containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseStraceCounts feeds the parser the captured tables and the
// seed corpus under testdata/fuzz: it must never panic, and a table it
// accepts has rows that add up to its total.
func FuzzParseStraceCounts(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "strace", "*.strace"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := harness.ParseStraceCounts(bytes.NewReader(data))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		checkSums(t, c)
	})
}
