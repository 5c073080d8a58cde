package fileset_test

import (
	"slices"
	"strings"
	"testing"

	"flashbench/fileset"
)

func TestReadCLF(t *testing.T) {
	const (
		common   = `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`
		combined = `10.0.0.2 - - [10/Oct/2000:13:55:37 -0700] "GET /dir00001/class1_4 HTTP/1.1" 304 - "http://example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`
	)
	tests := []struct {
		name    string
		log     string
		want    []string
		wantErr string
	}{
		{"common", common + "\n", []string{"/apache_pb.gif"}, ""},
		{"combined", combined, []string{"/dir00001/class1_4"}, ""},
		{"order and methods", common + "\n" + strings.Replace(common, "GET", "POST", 1) + "\n" + combined + "\r\n", []string{"/apache_pb.gif", "/dir00001/class1_4"}, ""},
		{"blank lines", "\n" + common + "\n\n", []string{"/apache_pb.gif"}, ""},
		{"http/0.9 request", `h - - [d] "GET /old" 200 10`, []string{"/old"}, ""},
		{"absolute uri", `h - - [d] "GET http://example.com/a/b?q=1 HTTP/1.1" 200 1`, []string{"/a/b?q=1"}, ""},
		{"dash request", `h - - [d] "-" 408 -`, nil, ""},
		{"escaped quote in request", `h - - [d] "GET /a\"b HTTP/1.0" 404 0`, []string{`/a"b`}, ""},
		{"empty", "", nil, ""},
		{"unterminated request", common + "\n" + `h - - [d] "GET /x HTTP/1.0 200 1`, nil, "access log line 2: malformed request field"},
		{"no request field", `h - - [d] 200 1`, nil, "access log line 1: malformed request field"},
		{"request without path", `h - - [d] "GET" 200 1`, nil, "access log line 1: malformed request field"},
		{"relative path", `h - - [d] "GET x/y HTTP/1.0" 200 1`, nil, "access log line 1: malformed request field"},
		{"bad protocol", `h - - [d] "GET /x FTP/1.0" 200 1`, nil, "access log line 1: malformed request field"},
		{"no timestamp", `h - - "GET /x HTTP/1.0" 200 1`, nil, "access log line 1: malformed host, ident or user field"},
		{"unterminated timestamp", `h - - [10/Oct/2000 "GET /x HTTP/1.0" 200 1`, nil, "access log line 1: malformed timestamp"},
		{"missing user", `h - [d] "GET /x HTTP/1.0" 200 1`, nil, "access log line 1: malformed host, ident or user field"},
		{"bad status", `h - - [d] "GET /x HTTP/1.0" OK 1`, nil, "access log line 1: malformed status field"},
		{"bad size", `h - - [d] "GET /x HTTP/1.0" 200 1k`, nil, "access log line 1: malformed size field"},
		{"missing size", `h - - [d] "GET /x HTTP/1.0" 200`, nil, "access log line 1: malformed status or size field"},
		{"garbage on line 17", strings.Repeat(common+"\n", 16) + "garbage\n", nil, "access log line 17: malformed host, ident or user field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fileset.ReadCLF(strings.NewReader(tt.log))
			if tt.wantErr != "" {
				if err == nil || err.Error() != "fileset: "+tt.wantErr {
					t.Fatalf("ReadCLF(%q): got %v, %v; want error %q", tt.log, got, err, "fileset: "+tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("ReadCLF(%q): got %q, %v; want %q", tt.log, got, err, tt.want)
			}
		})
	}
}

func TestReadCLFLongLine(t *testing.T) {
	log := `h - - [d] "GET /` + strings.Repeat("a", 2<<20) + ` HTTP/1.0" 200 1`
	_, err := fileset.ReadCLF(strings.NewReader("\n" + log))
	if err == nil || !strings.Contains(err.Error(), "access log line 2:") {
		t.Fatalf("2 MB line: got %v, want an error naming line 2", err)
	}
}

func FuzzReadCLF(f *testing.F) {
	f.Add([]byte(`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`))
	f.Add([]byte(`h - - [d] "GET http://x/y HTTP/1.1" 304 - "ref" "agent"` + "\n" + `h - - [d] "-" 408 -`))
	f.Fuzz(func(t *testing.T, data []byte) {
		paths, err := fileset.ReadCLF(strings.NewReader(string(data)))
		if err == nil && len(paths) > strings.Count(string(data), "\n")+1 {
			t.Fatalf("got %d paths from %d lines", len(paths), strings.Count(string(data), "\n")+1)
		}
		checkPaths(t, paths, err)
	})
}
