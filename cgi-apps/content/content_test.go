package content_test

import (
	"bytes"
	"testing"

	"flashbench/cgi-apps/content"
)

func TestFill(t *testing.T) {
	for _, n := range []int{0, 1, 61, 62, 63, 500, 51200, 200 << 10} {
		got := content.Dyn(n)
		for i, c := range got {
			if want := content.Alphabet[(i+n)%len(content.Alphabet)]; c != want {
				t.Fatalf("Dyn(%d)[%d]: got %q, want %q", n, i, c, want)
			}
		}
		if len(got) != n {
			t.Fatalf("Dyn(%d): got %d bytes", n, len(got))
		}
	}
}

func TestAdPage(t *testing.T) {
	a, b := content.AdPage("17"), content.AdPage("17")
	if !bytes.Equal(a, b) {
		t.Fatal("AdPage is not deterministic")
	}
	if id := content.AdID("17"); id < 0 || id >= content.Ads {
		t.Fatalf("AdID(17) = %d, want within [0, %d)", id, content.Ads)
	}
	if bytes.Equal(content.AdPage("<x>"), content.AdPage("x")) || bytes.Contains(content.AdPage("<x>"), []byte("<x>")) {
		t.Fatal("AdPage does not escape the user id")
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{{"0", 0, true}, {"51200", 51200, true}, {"-1", 0, false}, {"x", 0, false}, {"", 0, false}, {"99999999999", 0, false}}
	for _, tt := range tests {
		got, err := content.ParseSize(tt.in, content.MaxSize)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q): got %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
