package capture

import "testing"

// FuzzParse checks that no frame makes parse read past it or report a
// payload longer than the frame.
func FuzzParse(f *testing.F) {
	syn := []byte{0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
		0x1f, 0x90, 0xc3, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, SYN, 0xff, 0xff, 0, 0, 0, 0}
	f.Add(append(make([]byte, 14), syn...), 14)
	f.Add(syn, 0)
	f.Fuzz(func(t *testing.T, b []byte, off int) {
		if off < 0 || off > 64 {
			return
		}
		s, ok := parse(b, off)
		if ok && (s.Len < 0 || s.Len > 0xffff) {
			t.Fatalf("parse(%x, %d) = %+v: payload length out of an IPv4 packet's", b, off, s)
		}
	})
}

func TestParseSYN(t *testing.T) {
	syn := []byte{0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
		0x1f, 0x90, 0xc3, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, SYN, 0xff, 0xff, 0, 0, 0, 0}
	s, ok := parse(syn, 0)
	if want := (Segment{SrcPort: 8080, DstPort: 50000, Flags: SYN}); !ok || s != want {
		t.Errorf("parse(SYN): got %+v, %v; want %+v", s, ok, want)
	}
	if got := s.String(); got != "8080 > 50000 [S] length 0" {
		t.Errorf("String: got %q", got)
	}
	if _, ok := parse(syn[:39], 0); ok {
		t.Errorf("parse of a truncated frame: got ok, want not")
	}
}
