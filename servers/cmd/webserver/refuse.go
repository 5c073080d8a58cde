package main

import (
	"slices"
	"strings"

	"flashbench/internal/cliutil"
)

// refusals are the common flags that some architectures cannot honour:
// for each, the reason an architecture refuses it ("" when it honours
// it). A flag not listed is honoured by every architecture.
var refusals = map[string]func(a *Arch) string{
	"no-pathname-cache": withoutCaches,
	"no-header-cache":   withoutCaches,
	"no-mmap-cache":     withoutCaches,
	"cgi-dir":           withoutCGI,
	"cgi-procs":         withoutCGI,
	"cgi-timeout":       withoutCGI,
	"cgi-shared-memory": withoutSharedMemory,
	"cgi-pool-bytes":    withoutSharedMemory,
	"cgi-classic":       withoutClassic,
}

func withoutCaches(a *Arch) string {
	switch {
	case a.NoCore:
		return "it serves no files"
	case a.Baseline:
		return "a baseline serves files without flashbench's caches"
	}
	return ""
}

func withoutCGI(a *Arch) string {
	if a.NoCore {
		return "it serves no CGI programs"
	}
	return ""
}

func withoutSharedMemory(a *Arch) string {
	if why := withoutCGI(a); why != "" || a.Wait == WaitEvents || a.Wait == WaitRing {
		return why
	}
	return "only the event-loop architectures send CGI responses from shared memory"
}

func withoutClassic(a *Arch) string {
	if why := withoutCGI(a); why != "" || a.Wait != WaitEvents && a.Wait != WaitRing {
		return why
	}
	return "the event-loop architectures run persistent CGI programs only"
}

// checkFlags refuses, as a usage error, the first flag among set (the
// flags given on the command line) that a cannot honour: a common flag it
// refuses, or another architecture's own flag.
func checkFlags(a *Arch, set []string) error {
	for _, name := range set {
		if refuse, ok := refusals[name]; ok {
			if why := refuse(a); why != "" {
				return cliutil.Usagef("--%s: %s cannot honour it: %s", name, a.Name, why)
			}
			continue
		}
		if owners := flagOwners(name); len(owners) > 0 && !slices.Contains(owners, a.Name) {
			return cliutil.Usagef("--%s: not a flag of %s (only of %s)", name, a.Name, strings.Join(owners, ", "))
		}
	}
	return nil
}

// flagOwners returns the architectures whose own flags include name, in
// order; none for a common flag.
func flagOwners(name string) []string {
	var owners []string
	for _, n := range archNames() {
		for _, f := range archs[n].Flags {
			if slices.Contains(f.Names(), name) {
				owners = append(owners, n)
				break
			}
		}
	}
	return owners
}
