// Package proctree supervises and reads process trees. Group is the one
// supervisor of the multi-process flashbench servers: it starts their
// re-executed children tied to the parent's life, reaps them, drains them
// at shutdown and samples the memory of the tree. The rest reads a tree
// from /proc: the processes below a root, their states (to find zombies),
// their resident memory, descriptor and thread counts, with which the
// servers report the peak resident memory of the whole tree, and their
// tests prove that no child is left unreaped and no descriptor leaks.
package proctree

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// Proc is one process as /proc/PID/stat shows it.
type Proc struct {
	PID, PPID int
	// State is the one-letter state: R, S, D, Z (zombie), T, ...
	State byte
	// Comm is the command name, at most 15 bytes.
	Comm string
}

// List returns every process of the system. Processes that exit while
// /proc is read are skipped.
func List() ([]Proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("proctree: %w", err)
	}
	procs := make([]Proc, 0, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, err := Stat(pid)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errGone) || errors.Is(err, syscall.ESRCH) {
			continue
		}
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
	}
	return procs, nil
}

// errGone is a stat file emptied by a process exiting while it was read.
var errGone = errors.New("process gone")

// Stat reads /proc/PID/stat.
func Stat(pid int) (Proc, error) {
	b, err := readProc(pid, "stat")
	if err != nil {
		return Proc{}, err
	}
	return parseStat(b)
}

// readProc reads /proc/PID/name.
func readProc(pid int, name string) ([]byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + name)
	if err != nil {
		return nil, fmt.Errorf("proctree: %w", err)
	}
	return b, nil
}

// parseStat parses "PID (COMM) S PPID ...". COMM may hold spaces and
// parentheses, so it ends at the last ')'.
func parseStat(b []byte) (Proc, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if len(b) == 0 {
		return Proc{}, errGone
	}
	if open < 1 || end < open {
		return Proc{}, fmt.Errorf("proctree: malformed stat %q", b)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return Proc{}, fmt.Errorf("proctree: malformed stat %q", b)
	}
	rest := bytes.Fields(b[end+1:])
	if len(rest) < 2 || len(rest[0]) != 1 {
		return Proc{}, fmt.Errorf("proctree: malformed stat %q", b)
	}
	ppid, err := strconv.Atoi(string(rest[1]))
	if err != nil {
		return Proc{}, fmt.Errorf("proctree: malformed stat %q", b)
	}
	return Proc{PID: pid, PPID: ppid, State: rest[0][0], Comm: string(b[open+1 : end])}, nil
}

// Descendants returns the processes below pid (children, grandchildren,
// ...), pid itself excluded.
func Descendants(pid int) ([]Proc, error) {
	all, err := List()
	if err != nil {
		return nil, err
	}
	return descendants(all, pid), nil
}

// descendants picks the processes below pid out of all.
func descendants(all []Proc, pid int) []Proc {
	kids := map[int][]Proc{}
	for _, p := range all {
		kids[p.PPID] = append(kids[p.PPID], p)
	}
	var out []Proc
	queue := []int{pid}
	for len(queue) > 0 {
		for _, c := range kids[queue[0]] {
			if c.PID != pid { // guard against a cycle through a reused pid
				out = append(out, c)
				queue = append(queue, c.PID)
			}
		}
		queue = queue[1:]
	}
	return out
}

// Zombies returns the children of pid that have exited but were not
// reaped (state Z).
func Zombies(pid int) ([]Proc, error) {
	all, err := List()
	if err != nil {
		return nil, err
	}
	var z []Proc
	for _, p := range all {
		if p.PPID == pid && p.State == 'Z' {
			z = append(z, p)
		}
	}
	return z, nil
}

// FDs counts the open descriptors of pid (the entries of /proc/PID/fd).
func FDs(pid int) (int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return 0, fmt.Errorf("proctree: %w", err)
	}
	return len(ents), nil
}
