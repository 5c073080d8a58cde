package results

import (
	"fmt"

	"flashbench/internal/atomicfile"
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
		err = atomicfile.WriteFile(path, data)
	}
	if err != nil {
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	return nil
}
