package results

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write stores r at path atomically: it validates and marshals r, writes a
// temporary file in path's directory, fsyncs it, renames it over path and
// fsyncs the directory. Readers see the earlier file or the new one, never a
// part of either, even across a crash or power loss. On any error (such as
// ENOSPC) the temporary file is removed and an earlier file at path is left
// untouched.
func Write(path string, r *Result) error {
	data, err := marshal(r)
	if err == nil {
		err = writeAtomic(path, data)
	}
	if err != nil {
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	return nil
}

// writeAtomic replaces path with data by way of a fsynced temporary file.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp, renamed := f.Name(), false
	defer func() {
		if err != nil && !renamed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	renamed = true
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
