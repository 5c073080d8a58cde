package fileset

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"flashbench/internal/atomicfile"
)

// SchemaVersion is the manifest format version this package reads and writes.
const SchemaVersion = 1

// ManifestName is the manifest's file name inside a set's directory.
const ManifestName = "manifest.json"

// Kind names a file set layout.
type Kind string

// The file set kinds.
const (
	KindSPECweb99 Kind = "specweb99"
	KindSPECweb96 Kind = "specweb96"
	KindFixed     Kind = "fixed"
	KindSingle    Kind = "single"
)

// Kinds lists every kind Generate accepts.
var Kinds = []Kind{KindSPECweb99, KindSPECweb96, KindFixed, KindSingle}

// structured reports whether the kind uses the SPECweb dirNNNNN/classC_F layout.
func (k Kind) structured() bool { return k == KindSPECweb99 || k == KindSPECweb96 }

// Manifest describes a generated file set: its parameters and every file.
type Manifest struct {
	SchemaVersion int    `json:"schema_version"`
	Kind          Kind   `json:"kind"`
	Seed          uint64 `json:"seed"`
	Connections   int    `json:"connections,omitempty"`
	Directories   int    `json:"directories,omitempty"`
	SizeBytes     int64  `json:"size_bytes,omitempty"`
	Count         int    `json:"count,omitempty"`
	TotalBytes    int64  `json:"total_bytes"`
	Files         []File `json:"files"`

	// Reused reports that Generate found the set already in place and wrote
	// nothing. It is not part of the manifest file.
	Reused bool `json:"-"`
}

// File is one file of a set. Path is relative to the set's directory and uses
// forward slashes; Class is the SPECweb class (0 for fixed and single sets).
type File struct {
	Path      string `json:"path"`
	SizeBytes int64  `json:"size_bytes"`
	Class     int    `json:"class"`
	SHA256    string `json:"sha256"`
}

// URL returns the request path that names the file on a server whose document
// root is the set's directory.
func (f *File) URL() string { return "/" + f.Path }

// ReadManifest reads and validates the manifest at path.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fileset: read manifest: %w", err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("fileset: manifest %s: %w", path, err)
	}
	return m, nil
}

// ParseManifest decodes and validates manifest JSON.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("malformed json: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks that the manifest is self-consistent: a known kind and
// schema, safe relative paths without duplicates, sizes that add up to
// TotalBytes and, for SPECweb kinds, the complete directory-class-file grid.
// Paths are checked because stale files listed in a manifest may be deleted.
func (m *Manifest) Validate() error {
	if m.SchemaVersion != SchemaVersion {
		return fmt.Errorf("schema_version %d, want %d", m.SchemaVersion, SchemaVersion)
	}
	if !knownKind(m.Kind) {
		return fmt.Errorf("unknown kind %q", m.Kind)
	}
	if len(m.Files) == 0 {
		return errors.New("no files")
	}
	seen := make(map[string]bool, len(m.Files))
	var total int64
	for i := range m.Files {
		f := &m.Files[i]
		if err := checkPath(f.Path); err != nil {
			return fmt.Errorf("file %d: %w", i, err)
		}
		if seen[f.Path] {
			return fmt.Errorf("file %d: duplicate path %q", i, f.Path)
		}
		seen[f.Path] = true
		if f.SizeBytes < 0 || f.SizeBytes > 1<<40 {
			return fmt.Errorf("file %q: size_bytes %d out of range", f.Path, f.SizeBytes)
		}
		if len(f.SHA256) != 64 || strings.Trim(f.SHA256, "0123456789abcdef") != "" {
			return fmt.Errorf("file %q: malformed sha256", f.Path)
		}
		total += f.SizeBytes
	}
	if total != m.TotalBytes {
		return fmt.Errorf("total_bytes %d, files add up to %d", m.TotalBytes, total)
	}
	if m.Kind.structured() {
		if _, err := buildGrid(m); err != nil {
			return err
		}
	}
	return nil
}

func knownKind(k Kind) bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// checkPath accepts clean, relative, slash-separated paths that stay inside the
// set's directory and are not the manifest itself.
func checkPath(p string) error {
	switch {
	case p == "" || p == "." || p == ManifestName:
		return fmt.Errorf("invalid path %q", p)
	case strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0):
		return fmt.Errorf("invalid path %q", p)
	case path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("invalid path %q", p)
	}
	for _, elem := range strings.Split(p, "/") {
		if strings.HasPrefix(elem, ".") {
			return fmt.Errorf("invalid path %q: hidden element", p)
		}
	}
	return nil
}

// matches reports whether the manifest describes the set opts asks for.
func (m *Manifest) matches(opts Options) bool {
	return m.Kind == opts.Kind && m.Seed == opts.Seed && m.Connections == opts.Connections &&
		m.SizeBytes == opts.SizeBytes && m.Count == opts.Count
}

// writeManifest replaces dir/manifest.json atomically: a temporary file in dir,
// fsync, rename, then fsync of dir, so readers see the old or the new manifest,
// never a partial one.
func writeManifest(dir string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("fileset: encode manifest: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.WriteFile(filepath.Join(dir, ManifestName), data); err != nil {
		return fmt.Errorf("fileset: write manifest: %w", err)
	}
	return nil
}
