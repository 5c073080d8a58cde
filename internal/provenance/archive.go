package provenance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"flashbench/results"
)

// CheckArchive refuses a run whose build is not clean (see
// results.Provenance.Clean) from writing out, its output directory, under
// archive, the checkout's results/ directory, unless allowDirty: the
// archive holds only runs that say which commit made them. Anywhere else
// such a run is written all the same, its documents marked dirty. An
// empty archive (not inside a checkout) guards nothing.
func CheckArchive(p results.Provenance, out, archive string, allowDirty bool) error {
	if allowDirty || archive == "" || p.Clean() {
		return nil
	}
	inside, err := within(out, archive)
	if err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	if !inside {
		return nil
	}
	return fmt.Errorf("refusing to archive into %s a run whose build is not clean (git_commit %s: %s): "+
		"commit and rebuild (make build), or give --allow-dirty to archive it marked dirty", archive, p.GitCommit, Why(p))
}

// within reports whether dir is archive or lies below it, both made
// absolute and their symbolic links resolved as far as they exist.
func within(dir, archive string) (bool, error) {
	d, err := resolve(dir)
	if err != nil {
		return false, err
	}
	a, err := resolve(archive)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(a, d)
	if err != nil {
		return false, nil
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))), nil
}

// resolve makes p absolute and resolves the symbolic links of its longest
// existing prefix (the rest does not exist yet).
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(dir); err == nil {
			real, err := filepath.EvalSymlinks(dir)
			if err != nil {
				return "", err
			}
			return filepath.Join(real, rest), nil
		}
		if dir == filepath.Dir(dir) {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// ModuleRoot finds the flashbench checkout at or above the working
// directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("provenance: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module flashbench\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("provenance: not inside the flashbench checkout")
		}
		dir = parent
	}
}

// ArchiveDir is the checkout's results/ directory, where only clean builds
// archive their runs unless allowed otherwise (CheckArchive); "" outside a
// checkout.
func ArchiveDir() string {
	root, err := ModuleRoot()
	if err != nil {
		return ""
	}
	return filepath.Join(root, "results")
}
