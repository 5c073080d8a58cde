package soak

import (
	"time"
)

// Sample is one look at a server's process tree. The core processes are
// the server process and its prefork workers: the ones that serve
// connections for the whole run, whose descriptors a leak accumulates in.
type Sample struct {
	TakenAt time.Time `json:"taken_at"`
	// Alive reports the server process running (not exited, not a zombie).
	Alive bool `json:"alive"`
	// Processes counts the live processes of the tree, the server included.
	Processes int            `json:"processes"`
	ByKind    map[string]int `json:"processes_by_kind"`
	// Zombies are exited, unreaped processes of the tree.
	Zombies int `json:"zombies"`
	// Orphans are processes of the server's process group that are no
	// longer below it: children whose parent died without taking them.
	Orphans int `json:"orphans"`
	// FDsTree counts the descriptors of every process of the tree.
	FDsTree int `json:"fds_tree"`
	// FDsCore counts the core processes' descriptors; FDsCoreNonFile
	// leaves out docroot files, which the caches hold one per cached file.
	FDsCore        int `json:"fds_core"`
	FDsCoreNonFile int `json:"fds_core_nonfile"`
	// CachedFileFDs are the core processes' open docroot files;
	// DuplicateFileFDs the extra descriptors of a file one process holds
	// more than once (a cache holds each file once: the rest leaked);
	// DeletedFileFDs those whose file was deleted or replaced.
	CachedFileFDs    int `json:"cached_file_fds"`
	DuplicateFileFDs int `json:"duplicate_file_fds"`
	DeletedFileFDs   int `json:"deleted_file_fds"`
	// RSSTreeBytes is the resident memory of the tree; RSSAnonCoreBytes
	// the anonymous part of the core processes' (heap, stacks: what a
	// leak grows, where mapped files only reflect the page cache).
	RSSTreeBytes     int64 `json:"rss_tree_bytes"`
	RSSAnonCoreBytes int64 `json:"rss_anon_core_bytes"`
}

// onDemand counts the processes that start and stop with demand
// (helpers, CGI programs, forking children), each of which holds a few
// descriptors (pipes, a pidfd) in its parent.
func (s *Sample) onDemand() int {
	return s.ByKind[kindHelper] + s.ByKind[kindCGI] + s.ByKind[kindChild]
}

// sampleTree looks at the tree of the server process root, serving
// docroot with CGI programs from cgiDir, in the process list all.
func sampleTree(all map[int]proc, root int, docroot, cgiDir string) Sample {
	s := Sample{TakenAt: time.Now(), ByKind: map[string]int{}}
	p, ok := all[root]
	if !ok || p.state == 'Z' {
		return s
	}
	s.Alive = true
	tree := map[int]bool{root: true}
	s.addCore(root, docroot)
	s.Processes, s.ByKind[kindMain] = 1, 1
	for _, d := range descendants(all, root) {
		tree[d.pid] = true
		if d.state == 'Z' {
			s.Zombies++
			continue
		}
		s.Processes++
		kind := kindOf(d.pid, root, cgiDir)
		s.ByKind[kind]++
		if kind == kindWorker {
			s.addCore(d.pid, docroot)
		} else {
			s.addOther(d.pid)
		}
	}
	for _, q := range all {
		if q.pgrp == root && !tree[q.pid] && q.state != 'Z' {
			s.Orphans++
		}
	}
	return s
}

// addCore counts a core process's descriptors and memory.
func (s *Sample) addCore(pid int, docroot string) {
	if u, err := readFDs(pid, docroot); err == nil {
		s.FDsTree += u.total
		s.FDsCore += u.total
		cached := u.deleted
		for _, n := range u.files {
			cached += n
			s.DuplicateFileFDs += n - 1
		}
		s.CachedFileFDs += cached
		s.DeletedFileFDs += u.deleted
		s.FDsCoreNonFile += u.total - cached
	}
	if rss, anon, err := memory(pid); err == nil {
		s.RSSTreeBytes += rss
		s.RSSAnonCoreBytes += anon
	}
}

// addOther counts the descriptors and memory of a process outside the core.
func (s *Sample) addOther(pid int) {
	if u, err := readFDs(pid, ""); err == nil {
		s.FDsTree += u.total
	}
	if rss, _, err := memory(pid); err == nil {
		s.RSSTreeBytes += rss
	}
}
