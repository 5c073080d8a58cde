package httpcore_test

import (
	"testing"

	"flashbench/servers/httpcore"
)

// FuzzParseHTTPDate feeds If-Modified-Since values to the date parser: it
// must never panic, and any date it accepts must survive a round trip
// through the IMF-fixdate form the server writes.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{
		"Sun, 06 Nov 1994 08:49:37 GMT",  // IMF-fixdate
		"Sunday, 06-Nov-94 08:49:37 GMT", // RFC 850
		"Sun Nov  6 08:49:37 1994",       // asctime
		"Sun, 31 Feb 2026 23:59:60 GMT",  // out of range, normalised
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := httpcore.ParseHTTPDate(b)
		if !ok {
			if !got.IsZero() {
				t.Fatalf("ParseHTTPDate(%q) = %v, false; want the zero time on failure", b, got)
			}
			return
		}
		if got.Year() < 0 || got.Year() > 9999 {
			return // no IMF-fixdate form exists for it
		}
		again, ok := httpcore.ParseHTTPDate(httpcore.AppendHTTPDate(nil, got))
		if !ok || !again.Equal(got.Truncate(1e9)) {
			t.Fatalf("ParseHTTPDate(%q) = %v; its IMF-fixdate parses as %v, %v", b, got, again, ok)
		}
	})
}
