package httpcore_test

import (
	"testing"

	"flashbench/servers/httpcore"
)

// BenchmarkParse parses a browser-like GET with nine header fields and the
// minimal HTTP/1.0 request of the Flash experiments. Both must report
// 0 allocs/op: the Request and Parser are reused as a server reuses them.
func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name string
		in   string
	}{
		{"browser", "GET /dir00042/class2_3?lang=en HTTP/1.1\r\n" +
			"Host: localhost:8080\r\n" +
			"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
			"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
			"Accept-Language: en-US,en;q=0.5\r\n" +
			"Accept-Encoding: gzip, deflate, br\r\n" +
			"Connection: keep-alive\r\n" +
			"If-Modified-Since: Sat, 29 Oct 1994 19:43:31 GMT\r\n" +
			"Cache-Control: max-age=0\r\n" +
			"Upgrade-Insecure-Requests: 1\r\n\r\n"},
		{"minimal", "GET /file HTTP/1.0\r\n\r\n"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			in := []byte(c.in)
			var p httpcore.Parser
			var req httpcore.Request
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if n, err := p.Parse(in, &req); err != nil || n != len(in) {
					b.Fatalf("Parse(%q): got n=%d err=%v", in, n, err)
				}
			}
		})
	}
}
