package results_test

import (
	"bytes"
	"reflect"
	"testing"

	"flashbench/results"
)

// FuzzDecode checks that Decode never panics, and that anything it accepts
// survives Marshal and a second Decode unchanged. The seed corpus
// (testdata/fuzz/FuzzDecode) holds small valid documents and one of each
// kind of invalid one; small, because the fuzzer minimises every new input.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := results.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		b, err := results.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal of an accepted document: %v", err)
		}
		again, err := results.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Decode of a re-encoded document: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip changed the result:\nfirst  %+v\nsecond %+v", r, again)
		}
	})
}
