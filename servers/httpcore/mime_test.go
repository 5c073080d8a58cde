package httpcore_test

import (
	"testing"

	"flashbench/servers/httpcore"
)

func TestMIMEType(t *testing.T) {
	tests := []struct{ name, want string }{
		{"index.html", "text/html; charset=utf-8"},
		{"a.htm", "text/html; charset=utf-8"},
		{"A.HTML", "text/html; charset=utf-8"},
		{"r.txt", "text/plain; charset=utf-8"},
		{"s.css", "text/css; charset=utf-8"},
		{"app.js", "text/javascript; charset=utf-8"},
		{"d.json", "application/json"},
		{"d.xml", "text/xml; charset=utf-8"},
		{"i.png", "image/png"},
		{"i.jpg", "image/jpeg"},
		{"i.jpeg", "image/jpeg"},
		{"i.gif", "image/gif"},
		{"i.svg", "image/svg+xml"},
		{"favicon.ico", "image/vnd.microsoft.icon"},
		{"p.pdf", "application/pdf"},
		{"z.zip", "application/zip"},
		{"a.tar.gz", "application/gzip"},
		{"a.tar", "application/x-tar"},
		{"m.mp3", "audio/mpeg"},
		{"v.mp4", "video/mp4"},
		{"m.wasm", "application/wasm"},
		{"class1_5", "application/octet-stream"},
		{"dir.html/file", "application/octet-stream"},
		{"x.unknownext", "application/octet-stream"},
		{"x.", "application/octet-stream"},
		{".html", "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := httpcore.MIMEType(tt.name); got != tt.want {
				t.Fatalf("MIMEType(%q): got %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestParseHTTPDate(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		unix int64
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", true, 784111777},
		{"Sunday, 06-Nov-94 08:49:37 GMT", true, 784111777},
		{"Sun Nov  6 08:49:37 1994", true, 784111777},
		{"Sun, 06 Nov 1994 08:49:37 UTC", false, 0},
		{"Sun, 06 Foo 1994 08:49:37 GMT", false, 0},
		{"Sun, 32 Nov 1994 08:49:37 GMT", false, 0},
		{"Sun, 06 Nov 1994 24:49:37 GMT", false, 0},
		{"", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := httpcore.ParseHTTPDate([]byte(tt.in))
			if ok != tt.ok || (ok && got.Unix() != tt.unix) {
				t.Fatalf("ParseHTTPDate(%q): got %v, %v, want %d, %v", tt.in, got, ok, tt.unix, tt.ok)
			}
		})
	}
}
