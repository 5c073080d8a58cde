package harness

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"flashbench/results"
)

// StraceCounts is what strace -c reports: a row per system call and its
// total row.
type StraceCounts struct {
	Calls map[string]results.SyscallCount
	Total results.SyscallCount
}

// detachedRE matches the line strace -f -c writes before its table for a
// tracee that left inside a system call: "16432 ???( <detached ...>",
// "10083 ???( <unfinished ...>".
var detachedRE = regexp.MustCompile(`^\d+\s.*<(detached|unfinished) \.\.\.>$`)

// ParseStraceCounts reads the table strace -c writes (with -o FILE):
//
//	% time     seconds  usecs/call     calls    errors syscall
//	------ ----------- ----------- --------- --------- ----------------
//	 12.40    0.024265          12      2001           close
//	  3.13    0.006120           2      2129       128 accept4
//	------ ----------- ----------- --------- --------- ----------------
//	100.00    0.195656          15     12607       133 total
//
// The errors column is blank for a call that never failed; a line for
// each tracee strace detached from inside a system call may come before
// the table (detachedRE). A tracee of
// another personality (a 32-bit process) gets a table of its own, headed
// "System call usage summary for ..."; their rows and totals add up. The
// table must end in a total row equal to the sum of its rows: a table cut
// short is an error, as is a line that is not a row.
func ParseStraceCounts(r io.Reader) (*StraceCounts, error) {
	c := &StraceCounts{Calls: map[string]results.SyscallCount{}}
	sc := bufio.NewScanner(r)
	var sum results.SyscallCount
	inTable, totals, line := false, 0, 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "" || strings.HasPrefix(text, "System call usage summary for") || strings.HasPrefix(text, "------"):
			continue
		case !inTable && detachedRE.MatchString(text):
			continue
		case strings.HasPrefix(text, "% time"):
			if inTable {
				return nil, fmt.Errorf("strace -c: line %d: a header inside a table", line)
			}
			inTable, sum = true, results.SyscallCount{}
			continue
		case !inTable:
			return nil, fmt.Errorf("strace -c: line %d: %q before the table's header", line, clip(text))
		}
		name, n, err := parseStraceRow(text)
		if err != nil {
			return nil, fmt.Errorf("strace -c: line %d: %w", line, err)
		}
		if name == "total" {
			if n != sum {
				return nil, fmt.Errorf("strace -c: line %d: total %d calls, %d errors; the rows add up to %d and %d",
					line, n.Calls, n.Errors, sum.Calls, sum.Errors)
			}
			c.Total.Calls, c.Total.Errors = c.Total.Calls+n.Calls, c.Total.Errors+n.Errors
			inTable, totals = false, totals+1
			continue
		}
		old := c.Calls[name]
		c.Calls[name] = results.SyscallCount{Calls: old.Calls + n.Calls, Errors: old.Errors + n.Errors}
		sum.Calls, sum.Errors = sum.Calls+n.Calls, sum.Errors+n.Errors
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("strace -c: %w", err)
	}
	if inTable || totals == 0 {
		return nil, errors.New("strace -c: no total row: the table is missing or cut short")
	}
	return c, nil
}

// parseStraceRow reads one row: % time, seconds, usecs/call, calls, an
// errors column that may be blank, and the name.
func parseStraceRow(text string) (string, results.SyscallCount, error) {
	f := strings.Fields(text)
	if len(f) != 5 && len(f) != 6 {
		return "", results.SyscallCount{}, fmt.Errorf("%q: want 5 or 6 columns, got %d", clip(text), len(f))
	}
	for _, x := range f[:3] {
		if _, err := strconv.ParseFloat(x, 64); err != nil {
			return "", results.SyscallCount{}, fmt.Errorf("%q: %q is not a number", clip(text), x)
		}
	}
	var n results.SyscallCount
	var err error
	if n.Calls, err = strconv.ParseInt(f[3], 10, 64); err != nil || n.Calls < 0 || n.Calls > maxStraceCount {
		return "", results.SyscallCount{}, fmt.Errorf("%q: calls %q: want a count", clip(text), f[3])
	}
	if len(f) == 6 {
		if n.Errors, err = strconv.ParseInt(f[4], 10, 64); err != nil || n.Errors < 0 || n.Errors > n.Calls {
			return "", results.SyscallCount{}, fmt.Errorf("%q: errors %q: want a count up to the calls", clip(text), f[4])
		}
	}
	name := f[len(f)-1]
	if _, err := strconv.ParseFloat(name, 64); err == nil {
		return "", results.SyscallCount{}, fmt.Errorf("%q: no system call name", clip(text))
	}
	return name, n, nil
}

// maxStraceCount bounds a row's calls, so that no sum of rows overflows.
const maxStraceCount = 1 << 48

// clip shortens a line for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
