// Package atomicfile replaces files so that a reader, a crash or a full disk
// never leaves half of one: every document flashbench writes (results, run
// indexes, manifests, traces, reports, stats files) goes through it.
package atomicfile

import (
	"bytes"
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
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
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
