package soak

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"flashbench/fileset"
)

// fileSetSeed is the seed of the file set's content: the harness's, so
// that the cached set is shared with the experiments.
const fileSetSeed = 1

// scratchDir is the docroot folder of the files the faults truncate,
// replace and delete: never a file of the manifest, whose bodies the load
// verifies.
const scratchDir = "scratch"

// docroot is the run's document root: the cached SPECweb99 set linked
// into a directory of its own, so that the scratch files of the faults
// never touch the cache.
type docroot struct {
	dir          string
	manifest     *fileset.Manifest
	manifestPath string
}

// prepareDocroot generates (or finds) the set under setsDir and links it
// into a new directory beside it.
func prepareDocroot(setsDir string) (*docroot, error) {
	if err := os.MkdirAll(setsDir, 0o755); err != nil {
		return nil, fmt.Errorf("soak: file set: %w", err)
	}
	setDir := filepath.Join(setsDir, fmt.Sprintf("%s-seed%d-c%d", fileset.KindSPECweb99, fileSetSeed, FileSetConnections))
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindSPECweb99, Dir: setDir,
		Seed: fileSetSeed, Connections: FileSetConnections})
	if err != nil {
		return nil, fmt.Errorf("soak: file set: %w", err)
	}
	dir, err := os.MkdirTemp(setsDir, "soak-root-")
	if err != nil {
		return nil, fmt.Errorf("soak: docroot: %w", err)
	}
	d := &docroot{dir: dir, manifest: m, manifestPath: filepath.Join(setDir, fileset.ManifestName)}
	if err := d.link(setDir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return d, nil
}

// link hard-links every file of the set into the docroot (copying where
// a link cannot be made) and makes the scratch folder.
func (d *docroot) link(setDir string) error {
	if err := os.Chmod(d.dir, 0o755); err != nil {
		return fmt.Errorf("soak: docroot: %w", err)
	}
	for _, f := range d.manifest.Files {
		src, dst := filepath.Join(setDir, f.Path), filepath.Join(d.dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("soak: docroot: %w", err)
		}
		err := os.Link(src, dst)
		if errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM) {
			err = copyFile(src, dst)
		}
		if err != nil {
			return fmt.Errorf("soak: docroot: %w", err)
		}
	}
	if err := os.Mkdir(filepath.Join(d.dir, scratchDir), 0o755); err != nil {
		return fmt.Errorf("soak: docroot: %w", err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// remove deletes the docroot (links and scratch files; the cache stays).
func (d *docroot) remove() error { return os.RemoveAll(d.dir) }
