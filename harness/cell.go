package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"flashbench/fileset"
	"flashbench/harness/topology"
)

// serverConfig is what starting one cell's server needs.
type serverConfig struct {
	arch, docroot, statsFile, dir string
	args                          []string
	log                           *os.File
	cgroup                        *Cgroup
	cpu                           *CPUCgroup
	maxConns                      int
	startTimeout                  time.Duration
}

// cellRun is one cell in progress: its server, file set and point entries.
type cellRun struct {
	c        Cell
	idx      int
	manifest *fileset.Manifest // nil for cgi
	mpath    string            // "" for cgi
	// target is the request target: "/", or a cgiTarget.
	target string
	srv    *server
	// dev is the slow device serving the file set ([disk]), or nil.
	dev *device
	// cpu is the server's CPU cgroup, nil when the run is unbudgeted.
	cpu    *CPUCgroup
	conns  int
	warmup time.Duration
	// warmedFor is how long the cell's server was warmed up: warmup, or
	// for a disk-bound cell until its page cache stopped filling.
	warmedFor time.Duration
	// diedIn is the trial during which the server exited, 0 if none did.
	diedIn int
	// noQuota runs the server without the budget's quota, its CPU cgroup
	// only accounting: a system call pass, which counts and does not time.
	noQuota bool
}

// unavailable says why arch cannot run here, or "".
func (r *runner) unavailable(arch string) string {
	if IsExternal(arch) {
		if _, remote := r.o.Topology.(topology.Remote); remote {
			return "real servers run on the local and netns topologies only"
		}
		if _, err := lookupExternal(arch); err != nil {
			return err.Error()
		}
		return ""
	}
	if _, isBase := baseOf(arch); isBase {
		if r.o.BaseBinDir == "" {
			return "no base build to run it from (harness run --base)"
		}
		if !r.baseArchs[webArch(arch)] {
			return fmt.Sprintf("the base build's webserver has no architecture %q", webArch(arch))
		}
		return ""
	}
	if !r.webArchs[webArch(arch)] {
		return fmt.Sprintf("webserver has no architecture %q yet", webArch(arch))
	}
	return ""
}

// prepareCell generates the file set, bounds memory, starts the server,
// verifies one file of each class and warms the server up. The cleanup it
// returns stops the server and removes the cgroup; call it in any case.
func (r *runner) prepareCell(ctx context.Context, cr *cellRun) (cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	docroot, err := r.cellDocroot(cr)
	if err != nil {
		return cleanup, err
	}
	if IsExternal(cr.c.Arch) && serverUser() != "" {
		if err := CheckReadable(docroot, cr.manifest); err != nil {
			return cleanup, err
		}
	}
	sc := serverConfig{arch: cr.c.Arch, docroot: docroot, maxConns: cr.conns, startTimeout: r.o.StartTimeout,
		dir: filepath.Join(r.work, "cell"+strconv.Itoa(cr.idx)), args: r.cellArgs(cr.c)}
	sc.statsFile = filepath.Join(sc.dir, "stats.json")
	if err := os.MkdirAll(sc.dir, 0o755); err != nil {
		return cleanup, fmt.Errorf("cell: %w", err)
	}
	if sc.log, err = r.logFile(cr.c); err != nil {
		return cleanup, err
	}
	undo = append(undo, func() { sc.log.Close() })
	if r.e.Memory != nil {
		if sc.cgroup, err = NewMemoryCgroup(fmt.Sprintf("%d-%d", os.Getpid(), cr.idx), r.e.Memory.LimitBytes); err != nil {
			return cleanup, err
		}
		undo = append(undo, func() { sc.cgroup.Remove() })
		// A device mounts the set afresh, so it starts cold; the undo
		// stack stops the server before the device it reads from.
		if r.e.Disk != nil {
			if sc.docroot, err = r.startCellDevice(ctx, cr, sc); err != nil {
				return cleanup, err
			}
			undo = append(undo, func() { r.stopCellDevice(cr) })
		} else if err := fileset.Evict(cr.manifest, docroot); err != nil {
			return cleanup, err
		}
	}
	if cr.cpu, err = r.newCPUCgroup(cr.idx, cr.noQuota); err != nil {
		return cleanup, err
	}
	sc.cpu = cr.cpu
	undo = append(undo, func() { cr.cpu.Remove() })
	if cr.srv, err = r.startServer(ctx, sc); err != nil {
		return cleanup, err
	}
	undo = append(undo, func() {
		if err := cr.srv.stop(r.o.StopTimeout); err != nil {
			r.logf("%v", err)
		}
	})
	if err := r.verifyCell(cr); err != nil {
		return cleanup, err
	}
	if cr.warmup > 0 {
		if cr.warmedFor, err = r.warmUp(ctx, cr, sc.docroot); err != nil {
			return cleanup, fmt.Errorf("warm-up: %w", err)
		}
	}
	return cleanup, nil
}

// cellArgs returns a cell's extra webserver flags: the experiment's, its
// variant's, those of its caches value, and null's body size.
func (r *runner) cellArgs(c Cell) []string {
	args := append(append([]string{}, r.e.Server.Args...), variantArgs(c.Arch)...)
	if c.Param == ParamCaches {
		args = append(args, cacheFlags(c.Value.(string))...)
	}
	return append(args, nullBodyArgs(c.Arch, r.e.cellFileSet(c))...)
}

// nullBodyArgs returns the flag that makes the null architecture answer
// with a body of the cell's file size, where all its files have one size:
// the limit reference then moves as many bytes per response as the
// servers beside it, so that at 50 KB it is the floor of a server that
// copies the file into its socket, not of one that sends 23 bytes.
func nullBodyArgs(arch string, fs FileSet) []string {
	if webArch(arch) != "null" || fs.SizeBytes <= 0 {
		return nil
	}
	switch fs.Kind {
	case "single", "fixed", KindCGI:
		return []string{"--body-size", strconv.FormatInt(fs.SizeBytes, 10)}
	}
	return nil
}

// verifyCell checks the address the cell's server reports, where every
// request of the cell goes (verification, warm-up, trials), as the
// topology's was, then fetches one file of each class (for cgi, one
// response) and compares it with what it should be.
func (r *runner) verifyCell(cr *cellRun) error {
	if err := CheckTarget(cr.srv.addr.Addr(), r.o.Hosts); err != nil {
		return fmt.Errorf("server %s: %w", cr.c.Arch, err)
	}
	base := fmt.Sprintf("http://%s", cr.srv.addr)
	if cr.manifest == nil {
		return verifyCGI(topology.DialFunc(r.o.Topology), base, cr.target, r.e.cellFileSet(cr.c), servesFiles(cr.c.Arch))
	}
	return verifyFiles(topology.DialFunc(r.o.Topology), base, cr.manifest, servesFiles(cr.c.Arch))
}

// servesFiles reports whether the contender arch answers with the files
// it is asked for, so that verification compares bodies: all but the null
// architecture (a canned answer), the variants that answer as it does
// (forking-null), and their base builds'.
func servesFiles(arch string) bool {
	base, _ := baseOf(arch)
	return webArch(arch) != "null" && !Variants[base].Canned
}

// cellDocroot sets the cell's file set and request target and returns the
// server's document root: the file set's directory, or for cgi a directory
// of the run, empty but for the static twin of the CGI response that a
// Static variant is asked for.
func (r *runner) cellDocroot(cr *cellRun) (string, error) {
	fs := r.e.cellFileSet(cr.c)
	if fs.Kind == KindCGI {
		cr.target = cgiTarget(fs)
		dir := filepath.Join(r.work, "cgi-root")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("cell: %w", err)
		}
		if base, _ := baseOf(cr.c.Arch); Variants[base].Static {
			cr.target = staticCGITarget(fs)
			if err := writeStaticCGI(dir, fs); err != nil {
				return "", fmt.Errorf("cell: %w", err)
			}
		}
		return dir, nil
	}
	cr.target = "/"
	var err error
	if cr.manifest, cr.mpath, err = r.fileSet(fs); err != nil {
		return "", err
	}
	return filepath.Dir(cr.mpath), nil
}

func (r *runner) startServer(ctx context.Context, sc serverConfig) (*server, error) {
	if IsExternal(sc.arch) {
		prog, err := lookupExternal(sc.arch)
		if err != nil {
			return nil, err
		}
		return startExternal(ctx, r.o.Topology, prog, sc)
	}
	dir := r.o.BinDir
	if _, isBase := baseOf(sc.arch); isBase {
		dir = r.o.BaseBinDir
	}
	return startWebserver(ctx, r.o.Topology, filepath.Join(dir, "webserver"), sc)
}

// logFile opens the cell's server log under the run directory's logs/.
func (r *runner) logFile(c Cell) (*os.File, error) {
	dir := filepath.Join(r.dir, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cell: %w", err)
	}
	name := c.Name()
	// Appended to: a cell restarted every round (memory and disk
	// experiments) keeps one log.
	f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cell: %w", err)
	}
	return f, nil
}

// fileSet generates (or finds, cached) the set fs describes under
// FileSetDir and returns its manifest and the manifest's path.
func (r *runner) fileSet(fs FileSet) (*fileset.Manifest, string, error) {
	key := fmt.Sprintf("%s-seed%d", fs.Kind, fs.Seed)
	switch fs.Kind {
	case "fixed":
		key += fmt.Sprintf("-%dx%d", fs.Count, fs.SizeBytes)
	case "single":
		key += fmt.Sprintf("-%d", fs.SizeBytes)
	default:
		key += fmt.Sprintf("-c%d", fs.Connections)
	}
	dir := filepath.Join(r.o.FileSetDir, key)
	mpath := filepath.Join(dir, fileset.ManifestName)
	if m := r.manifests[key]; m != nil {
		return m, mpath, nil
	}
	opts := fileset.Options{Kind: fileset.Kind(fs.Kind), Dir: dir, Seed: fs.Seed,
		Connections: fs.Connections, SizeBytes: fs.SizeBytes, Count: fs.Count}
	if rem, ok := r.o.Topology.(topology.Remote); ok {
		m, err := rem.FileSet(opts)
		if err != nil {
			return nil, "", err
		}
		r.manifests[key] = m
		return m, mpath, nil
	}
	if err := os.MkdirAll(r.o.FileSetDir, 0o755); err != nil {
		return nil, "", fmt.Errorf("file set: %w", err)
	}
	m, err := fileset.Generate(opts)
	if err != nil {
		return nil, "", err
	}
	if !m.Reused {
		r.logf("file set %s generated (%d files, %d bytes)", dir, len(m.Files), m.TotalBytes)
	}
	r.manifests[key] = m
	return m, mpath, nil
}
