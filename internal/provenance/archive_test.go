package provenance_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/internal/provenance"
	"flashbench/results"
)

func TestCheckArchive(t *testing.T) {
	checkout := t.TempDir()
	archive := filepath.Join(checkout, "results")
	if err := os.MkdirAll(filepath.Join(archive, "hotos97"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "archive-link")
	if err := os.Symlink(archive, link); err != nil {
		t.Fatal(err)
	}
	const rev = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	var clean, modified results.Provenance
	provenance.SetBuild(&clean, map[string]results.Binary{"harness": {VCSRevision: rev, VCSModified: new(false)}})
	provenance.SetBuild(&modified, map[string]results.Binary{"harness": {VCSRevision: rev, VCSModified: new(true)}})
	tests := []struct {
		name       string
		p          results.Provenance
		out        string
		archive    string
		allowDirty bool
		refused    bool
	}{
		{"clean build into the archive", clean, filepath.Join(archive, "hotos97", "20250101T000000Z"), archive, false, false},
		{"modified build into the archive", modified, filepath.Join(archive, "hotos97", "20250101T000000Z"), archive, false, true},
		{"modified build into the archive root", modified, archive, archive, false, true},
		{"modified build into a new folder of the archive", modified, filepath.Join(archive, "soak", "x"), archive, false, true},
		{"modified build through a symbolic link", modified, filepath.Join(link, "hotos97"), archive, false, true},
		{"modified build, relative path", modified, relative(t, filepath.Join(archive, "hotos97")), archive, false, true},
		{"modified build, allowed", modified, filepath.Join(archive, "hotos97"), archive, true, false},
		{"modified build elsewhere", modified, filepath.Join(checkout, "results2"), archive, false, false},
		{"modified build beside the archive", modified, checkout, archive, false, false},
		{"modified build outside a checkout", modified, filepath.Join(archive, "hotos97"), "", false, false},
		{"old document without -dirty", results.Provenance{GitCommit: rev}, archive, archive, false, false},
		{"old document with -dirty", results.Provenance{GitCommit: rev + "-dirty"}, archive, archive, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := provenance.CheckArchive(tt.p, tt.out, tt.archive, tt.allowDirty)
			switch {
			case tt.refused && err == nil:
				t.Errorf("CheckArchive(%s): got no error, want a refusal", tt.out)
			case tt.refused && (!strings.Contains(err.Error(), "refusing to archive into "+tt.archive) ||
				!strings.Contains(err.Error(), "--allow-dirty") || strings.Contains(err.Error(), "\n")):
				t.Errorf("CheckArchive(%s): got %q, want one line naming %s and --allow-dirty", tt.out, err, tt.archive)
			case !tt.refused && err != nil:
				t.Errorf("CheckArchive(%s): got %v, want none", tt.out, err)
			}
		})
	}
}

// relative returns path relative to the working directory.
func relative(t *testing.T, path string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}
