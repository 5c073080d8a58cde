package harness

import (
	"strings"
	"testing"
)

// TestServesFiles checks which contenders have their bodies verified
// against the files: not null, nor a variant that answers as it does, nor
// their base builds.
func TestServesFiles(t *testing.T) {
	for _, tt := range []struct {
		arch string
		want bool
	}{
		{"sped", true}, {"sped@base", true}, {"forking", true}, {"sped-nocache", true}, {"nginx", true},
		{"null", false}, {"null@base", false}, {"forking-null", false}, {"forking-null@base", false},
	} {
		if got := servesFiles(tt.arch); got != tt.want {
			t.Errorf("servesFiles(%q): got %v, want %v", tt.arch, got, tt.want)
		}
	}
}

// TestNullBodyArgs checks that null, and its base build, answer with the
// cell's file size where the set has one size, and nothing else does.
func TestNullBodyArgs(t *testing.T) {
	for _, tt := range []struct {
		arch string
		fs   FileSet
		want string
	}{
		{"null", FileSet{Kind: "single", SizeBytes: 51200}, "--body-size 51200"},
		{"null@base", FileSet{Kind: "fixed", Count: 4, SizeBytes: 500}, "--body-size 500"},
		{"null", FileSet{Kind: KindCGI, SizeBytes: 500}, "--body-size 500"},
		{"null", FileSet{Kind: "specweb99"}, ""},
		{"forking-null", FileSet{Kind: "single", SizeBytes: 500}, ""},
		{"sped", FileSet{Kind: "single", SizeBytes: 500}, ""},
	} {
		if got := strings.Join(nullBodyArgs(tt.arch, tt.fs), " "); got != tt.want {
			t.Errorf("nullBodyArgs(%q, %+v): got %q, want %q", tt.arch, tt.fs, got, tt.want)
		}
	}
}
