package topology

import (
	"slices"
	"testing"
)

func TestShareLoad(t *testing.T) {
	args := []string{"http://198.18.0.1:80/", "--connections", "5", "--rate", "300", "--output", "/tmp/x.json"}
	tests := []struct {
		name string
		i, n int
		want []string
	}{
		{"one client keeps all", 0, 1, args},
		{"first of two takes the remainder", 0, 2, []string{"--seed", "1", "http://198.18.0.1:80/", "--connections", "3", "--rate", "150", "--output", "/tmp/x.json"}},
		{"second of two", 1, 2, []string{"--seed", "2", "http://198.18.0.1:80/", "--connections", "2", "--rate", "150", "--output", "/tmp/x.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := shareLoad(args, tt.i, tt.n)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("shareLoad(%v, %d, %d): got %v, %v; want %v", args, tt.i, tt.n, got, err, tt.want)
			}
		})
	}
	if _, err := shareLoad([]string{"--connections", "1"}, 0, 2); err == nil {
		t.Errorf("shareLoad: 1 connection for 2 clients: got no error, want one")
	}
}

func TestMapArgs(t *testing.T) {
	s := &SSH{roots: map[string]string{"h": "/tmp/fb-remote-x"}}
	in := []string{"--root", "/var/tmp/set", "--listen", "198.18.0.1:0", "--stats-file=/tmp/s.json", "http://a/"}
	want := []string{"--root", "/tmp/fb-remote-x/root/var/tmp/set", "--listen", "198.18.0.1:0",
		"--stats-file=/tmp/fb-remote-x/root/tmp/s.json", "http://a/"}
	if got := s.mapArgs("h", in); !slices.Equal(got, want) {
		t.Errorf("mapArgs(%v): got %v, want %v", in, got, want)
	}
}

func TestParseUsage(t *testing.T) {
	out := []byte("S 10 (webserver) S 1 10 10 0 -1 0 0 0 0 0 150 50 3 1 20 0 1 0 0 0 0\nH  2048 kB\n" +
		"S 11 (a b) c) S 10 10 10 0 -1 0 0 0 0 0 50 25 0 0 20 0 1 0 0 0 0\nH  1024 kB\n")
	u, err := parseUsage(out, 10)
	if err != nil {
		t.Fatal(err)
	}
	if u.Procs != 2 || u.HWMBytes != 3072<<10 || u.User.Milliseconds() != 2030 || u.System.Milliseconds() != 760 {
		t.Errorf("got %+v, want 2 procs, 3 MiB, user 2.03 s, system 0.76 s", u)
	}
	if _, err := parseUsage(nil, 10); err == nil {
		t.Errorf("parseUsage of nothing: got no error, want the process gone")
	}
}
