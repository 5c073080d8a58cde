package soak

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Process kinds of a server's tree, read from each process's argv.
const (
	kindMain   = "main"   // the server process itself
	kindWorker = "worker" // a prefork worker
	kindHelper = "helper" // an AMPED helper
	kindChild  = "child"  // a forking child (one per connection)
	kindCGI    = "cgi"    // a persistent CGI program
	kindOther  = "other"  // anything else: never expected
)

// proc is one process as /proc/PID/stat shows it.
type proc struct {
	pid, ppid, pgrp int
	state           byte
}

// listProcs reads every process of the system; one that exits meanwhile
// is skipped.
func listProcs() (map[int]proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := make(map[int]proc, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if p, ok := parseStat(pid, b); ok {
			out[pid] = p
		}
	}
	return out, nil
}

// parseStat parses "PID (COMM) S PPID PGRP ...": COMM may hold spaces and
// parentheses, so the fields start after the last ')'.
func parseStat(pid int, b []byte) (proc, bool) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return proc{}, false
	}
	f := bytes.Fields(b[end+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return proc{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgrp, err2 := strconv.Atoi(string(f[2]))
	if err1 != nil || err2 != nil {
		return proc{}, false
	}
	return proc{pid: pid, ppid: ppid, pgrp: pgrp, state: f[0][0]}, true
}

// descendants returns root's descendants (root excluded) in all.
func descendants(all map[int]proc, root int) []proc {
	kids := map[int][]proc{}
	for _, p := range all {
		kids[p.ppid] = append(kids[p.ppid], p)
	}
	var out []proc
	queue := []int{root}
	for len(queue) > 0 {
		for _, c := range kids[queue[0]] {
			if c.pid != root {
				out = append(out, c)
				queue = append(queue, c.pid)
			}
		}
		queue = queue[1:]
	}
	return out
}

// kindOf classifies a process of the tree rooted at root by its argv.
func kindOf(pid, root int, cgiDir string) string {
	if pid == root {
		return kindMain
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return kindOther
	}
	argv := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(argv) > 1 {
		switch argv[1] {
		case "prefork-worker":
			return kindWorker
		case "amped-helper":
			return kindHelper
		}
	}
	if strings.HasPrefix(filepath.Base(argv[0]), "webserver-") && strings.HasSuffix(argv[0], "child") {
		return kindChild
	}
	if filepath.Dir(argv[0]) == cgiDir {
		return kindCGI
	}
	return kindOther
}

// fdUse is what a process's descriptors point at.
type fdUse struct {
	total int
	// files counts open docroot files by path (Flash's caches hold one
	// descriptor per cached file); deleted counts those whose file is gone.
	files   map[string]int
	deleted int
}

// readFDs classifies pid's descriptors: docroot files by path, the rest
// (sockets, pipes, epoll, logs) counted in total only. An empty root
// counts them all in total.
func readFDs(pid int, root string) (fdUse, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fdUse{}, err
	}
	u := fdUse{total: len(ents), files: map[string]int{}}
	if root == "" {
		return u, nil
	}
	prefix := root + "/"
	for _, e := range ents {
		target, err := os.Readlink(dir + "/" + e.Name())
		if err != nil || !strings.HasPrefix(target, prefix) {
			continue
		}
		if strings.HasSuffix(target, " (deleted)") {
			u.deleted++
			continue
		}
		u.files[target]++
	}
	return u, nil
}

// memory returns pid's resident set and its anonymous part, in bytes.
func memory(pid int) (rss, anon int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "RssAnon") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, errors.New("malformed " + k)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			anon = kb << 10
		}
	}
	return rss, anon, nil
}

// children returns the live processes below root by kind.
func children(all map[int]proc, root int, cgiDir string) map[string][]int {
	out := map[string][]int{}
	for _, d := range descendants(all, root) {
		if d.state != 'Z' {
			k := kindOf(d.pid, root, cgiDir)
			out[k] = append(out[k], d.pid)
		}
	}
	return out
}

// fdCount counts pid's open descriptors.
func fdCount(pid int) (int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	return len(ents), err
}
