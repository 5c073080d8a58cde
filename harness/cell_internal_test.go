package harness

import "testing"

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
