// Package atomicfile replaces files so that a reader, a crash or a full disk
// never leaves half of one: every document flashbench writes (results, run
// indexes, manifests, traces, reports, stats files) goes through it.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data, mode 0644.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}

// Write replaces path with what write produces: it writes a temporary file
// in path's directory, fsyncs it, renames it over path and fsyncs the
// directory. On any error the temporary file is removed and an earlier file
// at path is left as it was; the error is write's own, or the failed step's.
func Write(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := createTemp(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil // the rename is done; only its durability is unknown
	}
	defer d.Close()
	d.Sync()
	return nil
}

// Check reports whether Write could replace path now: path is not a
// directory and its directory takes a new file. A program checks its
// output paths with it before work whose result it could not keep.
func Check(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s: is a directory", path)
	}
	f, err := createTemp(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary name would only confuse
		}
		return fmt.Errorf("%s: cannot create a file in %s: %w", path, filepath.Dir(path), err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// createTemp creates the temporary file of a write of path, in its
// directory.
func createTemp(path string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
}
