package results_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"flashbench/results"
)

func TestErrorsKeysAreClasses(t *testing.T) {
	b, err := json.Marshal(results.NewErrors())
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	var keys []string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if k, ok := tok.(string); ok {
			keys = append(keys, k)
		}
	}
	classes := results.ErrorClasses()
	if len(keys) != len(classes) {
		t.Fatalf("errors keys: got %q, want %q", keys, classes)
	}
	for i, c := range classes {
		if keys[i] != string(c) {
			t.Errorf("errors key %d: got %q, want %q", i, keys[i], c)
		}
	}
}

func TestErrorsCounts(t *testing.T) {
	var e results.Errors
	for i, c := range results.ErrorClasses() {
		mustAdd(t, &e, c, int64(i+1))
	}
	for i, c := range results.ErrorClasses() {
		if n, ok := e.Count(c); !ok || n != int64(i+1) {
			t.Errorf("Count(%s): got %d, %v, want %d, true", c, n, ok, i+1)
		}
	}
	if got, want := e.Total(), int64(55); got != want {
		t.Errorf("Total: got %d, want %d", got, want)
	}
	e.Merge(e)
	if got, want := e.Total(), int64(110); got != want {
		t.Errorf("Total after merging with itself: got %d, want %d", got, want)
	}
	if err := e.Add("dns", 1); err == nil {
		t.Errorf("Add(unknown class): got no error")
	}
	if _, ok := e.Count("dns"); ok {
		t.Errorf("Count(unknown class): got ok")
	}
	big := results.Errors{Reset: math.MaxInt64, Read: 1}
	if got := big.Total(); got != math.MaxInt64 {
		t.Errorf("Total past int64: got %d, want %d (saturated)", got, int64(math.MaxInt64))
	}
}

func TestErrorsDominant(t *testing.T) {
	tests := []struct {
		name string
		e    results.Errors
		want results.ErrorClass
	}{
		{"none", results.Errors{}, ""},
		{"one class", results.Errors{ShortBody: 3}, results.ShortBody},
		{"largest wins", results.Errors{ConnectRefused: 2, Reset: 9, Timeout: 4}, results.Reset},
		{"tie goes to document order", results.Errors{Timeout: 5, ConnectRefused: 5}, results.ConnectRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Dominant(); got != tt.want {
				t.Errorf("Dominant(%+v): got %q, want %q", tt.e, got, tt.want)
			}
		})
	}
}
