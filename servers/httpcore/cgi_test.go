package httpcore_test

import (
	"strings"
	"testing"

	"flashbench/servers/httpcore"
)

func TestCGIName(t *testing.T) {
	core, err := httpcore.New(httpcore.Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	tests := []struct {
		path  string
		name  string
		isCGI bool
	}{
		{"/cgi-bin/dyn", "dyn", true},
		{"/cgi-bin/a.b-c_d", "a.b-c_d", true},
		{"/cgi-bin/", "", true},
		{"/cgi-bin", "", true},
		{"/cgi-bin/..", "", true},
		{"/cgi-bin/.", "", true},
		{"/cgi-bin/../etc/passwd", "", true},
		{"/cgi-bin/%2e%2e", "", true},
		{"/cgi-bin/a/b", "", true},
		{"/cgi-bin/a%2fb", "", true},
		{"/cgi-binx/dyn", "", false},
		{"/index.html", "", false},
		{"/", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			name, isCGI := core.CGIName([]byte(tt.path))
			if string(name) != tt.name || isCGI != tt.isCGI {
				t.Errorf("CGIName(%q): got %q, %v; want %q, %v", tt.path, name, isCGI, tt.name, tt.isCGI)
			}
		})
	}
}

func TestPlanDynamic(t *testing.T) {
	core, err := httpcore.New(httpcore.Config{Root: t.TempDir(), ServerName: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	var p httpcore.Plan
	req := &httpcore.Request{Method: httpcore.MethodGET, KeepAlive: true}
	core.PlanDynamic(req, 200, []byte("text/plain"), 51200, &p)
	h := string(p.Header)
	for _, want := range []string{"HTTP/1.1 200 OK\r\n", "\r\nServer: t\r\n", "\r\nContent-Type: text/plain\r\n", "\r\nContent-Length: 51200\r\n", "Connection: keep-alive\r\n\r\n"} {
		if !strings.Contains(h, want) {
			t.Errorf("header %q: missing %q", h, want)
		}
	}
	if p.Close || p.Kind != httpcore.BodyNone || p.Length != 51200 {
		t.Errorf("got close %v kind %v length %d, want false, BodyNone, 51200", p.Close, p.Kind, p.Length)
	}
	core.PlanDynamic(&httpcore.Request{Method: httpcore.MethodGET}, 502, []byte("text/html"), 0, &p)
	if !p.Close || !strings.HasPrefix(string(p.Header), "HTTP/1.1 502 ") {
		t.Errorf("502 without keep-alive: got close %v header %q", p.Close, p.Header)
	}
}

func TestNewBufferFile(t *testing.T) {
	released := 0
	f := httpcore.NewBufferFile(7, 100, func() { released++ })
	if f.Fd() != 7 || f.Size() != 100 {
		t.Fatalf("got fd %d size %d, want 7, 100", f.Fd(), f.Size())
	}
	p := httpcore.Plan{Kind: httpcore.BodyFile, File: f, Length: 100}
	p.Release()
	if released != 1 {
		t.Fatalf("release ran %d times, want 1", released)
	}
}
