package conformance_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/servers/httpcore/conformance"
)

func TestCasesWellFormed(t *testing.T) {
	if got, want := len(conformance.Cases), 55; got < want {
		t.Errorf("got %d cases, want at least %d", got, want)
	}
	root := conformance.Docroot(t)
	seen := map[string]bool{}
	for i, c := range conformance.Cases {
		if c.Name == "" {
			t.Errorf("case %d: got an empty name", i)
		}
		if seen[c.Name] {
			t.Errorf("case %q: got the name twice, want unique names", c.Name)
		}
		seen[c.Name] = true
		if c.Request == "" {
			t.Errorf("case %q: got an empty request", c.Name)
		}
		for j, w := range c.Wants() {
			if w.Status < 100 || w.Status > 599 {
				t.Errorf("case %q: response %d: got status %d, want 100..599", c.Name, j+1, w.Status)
			}
			if w.BodyFile == "" {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, w.BodyFile)); err != nil {
				t.Errorf("case %q: response %d: body file: %v", c.Name, j+1, err)
			}
		}
	}
}

func TestDocroot(t *testing.T) {
	root := conformance.Docroot(t)
	tests := []struct {
		name string
		want []byte
	}{
		{"500b.txt", conformance.Pattern(500, 1)},
		{"50k.bin", conformance.Pattern(50*1024, 2)},
		{"escape.txt", []byte(conformance.Secret)},
		{"dir/escape2.txt", []byte(conformance.Secret)},
		{"inside-link.html", conformance.File("page.html")},
		{"with space.txt", conformance.File("with space.txt")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(root, tt.name))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if string(got) != string(tt.want) {
				t.Errorf("got %d bytes %.20q, want %d bytes %.20q", len(got), got, len(tt.want), tt.want)
			}
		})
	}
	fi, err := os.Stat(filepath.Join(root, "page.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(conformance.ModTime) {
		t.Errorf("page.html: got mtime %v, want %v", fi.ModTime(), conformance.ModTime)
	}
	if got := conformance.ModTime.Format("Mon, 02 Jan 2006 15:04:05 GMT"); got != conformance.ModTimeHTTP {
		t.Errorf("got ModTime formatted %q, want %q", got, conformance.ModTimeHTTP)
	}
	secret, _ := filepath.EvalSymlinks(filepath.Join(root, "escape.txt"))
	if strings.HasPrefix(secret, root+string(filepath.Separator)) {
		t.Errorf("escape.txt resolves to %s, want a file outside %s", secret, root)
	}
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name, in string
		head     bool
		status   int
		body     string
		wantErr  bool
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: y\r\n\r\nabc", false, 200, "abc", false},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", true, 200, "", false},
		{"304", "HTTP/1.1 304 Not Modified\r\n\r\n", false, 304, "", false},
		{"bare-lf", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", false, 0, "", true},
		{"no-length", "HTTP/1.1 200 OK\r\n\r\nabc", false, 0, "", true},
		{"short-body", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", false, 0, "", true},
		{"bad-status", "HTTP/1.1 2x0 OK\r\n\r\n", false, 0, "", true},
		{"conflicting-length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", false, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := conformance.ReadResponse(bufio.NewReader(strings.NewReader(tt.in)), tt.head)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ReadResponse(%q): got no error, want one", tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadResponse(%q): %v", tt.in, err)
			}
			if r.Status != tt.status || string(r.Body) != tt.body {
				t.Errorf("ReadResponse(%q): got %d %q, want %d %q", tt.in, r.Status, r.Body, tt.status, tt.body)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	root := conformance.Docroot(t)
	good := &conformance.Response{
		Status: 200, ContentLength: 17, Body: conformance.File("notes.txt"),
		Header: map[string][]string{
			"date": {"Sun, 09 Sep 2001 01:46:40 GMT"}, "server": {"x"},
			"content-type": {"text/plain; charset=utf-8"}, "content-length": {"17"},
		},
	}
	want := conformance.Want{Status: 200, BodyFile: "notes.txt", Header: map[string]string{"Content-Type": "text/plain"}}
	if p := conformance.Check(root, want, good); len(p) != 0 {
		t.Errorf("Check(good): got problems %q, want none", p)
	}
	bad := *good
	bad.Body = []byte("plain text notez\n")
	bad.Header = map[string][]string{"content-type": {"text/html"}}
	if p := conformance.Check(root, want, &bad); len(p) != 4 {
		t.Errorf("Check(bad): got %d problems %q, want 4 (date, server, type, body)", len(p), p)
	}
}
