package harness

import (
	"path/filepath"

	"flashbench/harness/topology"
	"flashbench/internal/provenance"
	"flashbench/results"
)

// Programs are the programs of the bin directory the harness runs, whose
// build information every document of a run records with the harness's
// own (slowdisk and fileset only when the directory has them).
var Programs = []string{"webserver", "loadgen", "fileset", "slowdisk"}

// Provenance describes this machine and the run's build for its
// documents: the harness's and binDir's Programs' build information (the
// commit comes from them, not from the working directory), the core
// pinning and topology, the sysctls that matter, and the versions of the
// real servers among archs. baseDir, when set, holds the webserver of the
// base build the run compares with (Options.BaseBinDir).
func Provenance(topo topology.Topology, binDir, baseDir string, archs []string) results.Provenance {
	p := provenance.Machine()
	p.CorePinning, p.Topology, p.Sysctls = topo.Pinning(), topo.Name(), provenance.Sysctls()
	provenance.SetBuild(&p, provenance.Binaries("harness", binDir, Programs...))
	if baseDir != "" {
		b, _ := provenance.File(filepath.Join(baseDir, "webserver")) // not a Go program: recorded as unknown
		provenance.SetBase(&p, map[string]results.Binary{"webserver": b})
	}
	p.Tools = toolVersions(archs)
	return p
}

// toolVersions returns the version of each real server among archs that
// is installed, by program name (apache2 once for its three MPMs); nil
// when the run uses none. A server that cannot say its version records
// the error instead: the run will fail on it anyway.
func toolVersions(archs []string) results.Map[string] {
	var tools results.Map[string]
	for _, a := range archs {
		if !IsExternal(a) {
			continue
		}
		path, err := lookupExternal(a)
		if err != nil {
			continue
		}
		prog := filepath.Base(path)
		if tools == nil {
			tools = results.Map[string]{}
		}
		if _, done := tools[prog]; done {
			continue
		}
		tools[prog] = toolVersion(prog, path)
	}
	return tools
}

// versionArgs are the arguments that make each real server print its
// version and exit. A program missing here cannot (webfsd has no such
// flag, and starts serving on any it does not know): its Debian package's
// version stands in.
var versionArgs = map[string][]string{
	"nginx": {"-v"}, "apache2": {"-v"}, "lighttpd": {"-v"}, "mini_httpd": {"-V"}, "caddy": {"version"}, "h2o": {"--version"},
}

// toolVersion is prog's version line, or what went wrong getting it.
func toolVersion(prog, path string) string {
	var v string
	var err error
	if args, ok := versionArgs[prog]; ok {
		v, err = provenance.ToolVersion(path, args...)
	} else {
		pkg := prog
		if p, ok := externalPackages[prog]; ok {
			pkg = p
		}
		v, err = provenance.PackageVersion(pkg)
	}
	if err != nil {
		return "unknown: " + err.Error()
	}
	return v
}
