package fileset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Options selects the file set Generate builds.
type Options struct {
	Kind Kind
	// Dir is the set's directory; it is created if missing.
	Dir  string
	Seed uint64
	// Connections scales the SPECweb sets; fixed and single sets reject it.
	Connections int
	// SizeBytes is the file size of fixed and single sets; SPECweb sets reject it.
	SizeBytes int64
	// Count is the number of files of a fixed set.
	Count int
}

// validate rejects options that do not describe a set, and parameters that do
// not apply to the kind (so a manifest never records an unused parameter).
func (o Options) validate() error {
	if o.Dir == "" {
		return errors.New("fileset: no directory given")
	}
	switch o.Kind {
	case KindSPECweb99, KindSPECweb96:
		if o.Connections <= 0 {
			return fmt.Errorf("fileset: %s needs a positive connection count, got %d", o.Kind, o.Connections)
		}
		if o.SizeBytes != 0 || o.Count != 0 {
			return fmt.Errorf("fileset: %s takes no size or count", o.Kind)
		}
	case KindFixed, KindSingle:
		if o.SizeBytes <= 0 {
			return fmt.Errorf("fileset: %s needs a positive size, got %d bytes", o.Kind, o.SizeBytes)
		}
		if o.Kind == KindFixed && o.Count <= 0 {
			return fmt.Errorf("fileset: fixed needs a positive count, got %d", o.Count)
		}
		if o.Kind == KindSingle && o.Count != 0 {
			return errors.New("fileset: single takes no count")
		}
		if o.Connections != 0 {
			return fmt.Errorf("fileset: %s takes no connection count", o.Kind)
		}
	default:
		return fmt.Errorf("fileset: unknown kind %q (want specweb99, specweb96, fixed or single)", o.Kind)
	}
	return nil
}

// Generate builds the set opts describes in opts.Dir and writes its manifest.
// If the directory already holds that set (same parameters, every file present
// at its size) it writes nothing and returns the existing manifest with Reused
// set. Otherwise every file is written to a temporary name and renamed into
// place (files an earlier manifest with the same seed lists at the same size
// are kept as they are), files listed only in an earlier manifest are
// removed, the file system is synced, and the manifest is replaced atomically
// last. On failure the temporary file is removed and an earlier manifest of
// the same seed is left as it was; one of another seed is removed before any
// file is rewritten, so no manifest ever lists bytes that are not there.
func Generate(opts Options) (*Manifest, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	old, _ := ReadManifest(filepath.Join(opts.Dir, ManifestName))
	if old != nil && old.matches(opts) && present(opts.Dir, old) {
		old.Reused = true
		return old, nil
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("fileset: create directory: %w", err)
	}
	m := &Manifest{SchemaVersion: SchemaVersion, Kind: opts.Kind, Seed: opts.Seed,
		Connections: opts.Connections, SizeBytes: opts.SizeBytes, Count: opts.Count}
	if opts.Kind.structured() {
		m.Directories = Directories(opts.Connections)
	}
	plans := layout(opts)
	m.Files = make([]File, len(plans))
	reuse := reusable(opts, old)
	if err := retire(opts.Dir, old, opts.Seed); err != nil {
		return nil, err
	}
	buf := make([]byte, 256<<10)
	made := map[string]bool{}
	for i, p := range plans {
		if f, ok := reuse[p.path]; ok && f.SizeBytes == p.size && f.Class == p.class {
			m.Files[i] = f
			m.TotalBytes += p.size
			continue
		}
		dir := filepath.Dir(filepath.Join(opts.Dir, filepath.FromSlash(p.path)))
		if !made[dir] {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("fileset: create directory: %w", err)
			}
			made[dir] = true
		}
		sum, err := writeFile(opts.Dir, p, opts.Seed, buf)
		if err != nil {
			return nil, err
		}
		m.Files[i] = File{Path: p.path, SizeBytes: p.size, Class: p.class, SHA256: sum}
		m.TotalBytes += p.size
	}
	if old != nil {
		removeStale(opts.Dir, old, m)
	}
	if err := syncFS(opts.Dir); err != nil {
		return nil, err
	}
	if err := writeManifest(opts.Dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// present reports whether every file of m exists in dir as a regular file of
// its recorded size. Sizes, not checksums, keep a repeated run fast.
func present(dir string, m *Manifest) bool {
	for i := range m.Files {
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(m.Files[i].Path)))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != m.Files[i].SizeBytes {
			return false
		}
	}
	return true
}

// reusable returns the files of an earlier set in opts.Dir that need not be
// written again: same seed, so the same path and size mean the same bytes, and
// still present at their size. Growing a SPECweb set then writes only the new
// directories.
func reusable(opts Options, old *Manifest) map[string]File {
	if old == nil || old.Seed != opts.Seed {
		return nil
	}
	out := make(map[string]File, len(old.Files))
	for _, f := range old.Files {
		fi, err := os.Lstat(filepath.Join(opts.Dir, filepath.FromSlash(f.Path)))
		if err == nil && fi.Mode().IsRegular() && fi.Size() == f.SizeBytes {
			out[f.Path] = f
		}
	}
	return out
}

// retire removes an earlier manifest whose files are about to be rewritten
// with other bytes of the same size (another seed). Left in place, it would
// describe those files wrongly if this run failed half-way, and a later run
// with the old seed would take the set as complete.
func retire(dir string, old *Manifest, seed uint64) error {
	if old == nil || old.Seed == seed {
		return nil
	}
	if err := os.Remove(filepath.Join(dir, ManifestName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("fileset: remove earlier manifest: %w", err)
	}
	return nil
}

// writeFile writes one file's content to a temporary name next to it, renames
// it into place and returns the hex SHA-256 of the bytes written.
func writeFile(root string, p plan, seed uint64, buf []byte) (string, error) {
	name := filepath.Join(root, filepath.FromSlash(p.path))
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("fileset: create %s: %w", p.path, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	src := newContent(seed, p.path)
	for left := p.size; left > 0; {
		chunk := buf[:min(int64(len(buf)), left)]
		src.fill(chunk)
		h.Write(chunk)
		if _, err := tmp.Write(chunk); err != nil {
			return "", fmt.Errorf("fileset: write %s: %w", p.path, err)
		}
		left -= int64(len(chunk))
	}
	if err := tmp.Chmod(0o644); err != nil {
		return "", fmt.Errorf("fileset: chmod %s: %w", p.path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("fileset: close %s: %w", p.path, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return "", fmt.Errorf("fileset: rename %s: %w", p.path, err)
	}
	ok = true
	return hex.EncodeToString(h.Sum(nil)), nil
}

// removeStale deletes the files old lists that m does not, then their
// directories if they became empty. Only listed files are touched: anything
// else in the directory belongs to someone else.
func removeStale(dir string, old, m *Manifest) {
	keep := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		keep[f.Path] = true
	}
	for _, f := range old.Files {
		if keep[f.Path] {
			continue
		}
		name := filepath.Join(dir, filepath.FromSlash(f.Path))
		if os.Remove(name) == nil && strings.Contains(f.Path, "/") {
			os.Remove(filepath.Dir(name)) // fails, harmlessly, unless empty
		}
	}
}

// syncFS flushes the whole file system holding dir in one call, so that the
// manifest, written next, never describes data that is not on disk.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fileset: sync: %w", err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("fileset: sync %s: %w", dir, os.NewSyscallError("syncfs", err))
	}
	return nil
}
