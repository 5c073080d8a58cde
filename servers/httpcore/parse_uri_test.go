package httpcore_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"flashbench/servers/httpcore"
)

// parseStatus parses in and returns 0 when it is accepted, the status
// and reason of the refusal otherwise.
func parseStatus(t *testing.T, in string) (int, string) {
	t.Helper()
	var p httpcore.Parser
	var req httpcore.Request
	n, err := p.Parse([]byte(in), &req)
	var e *httpcore.Error
	switch {
	case err == nil && n == len(in):
		return 0, ""
	case errors.As(err, &e):
		return e.Status, e.Reason
	}
	t.Fatalf("Parse(%q): got n=%d err=%v, want the whole request accepted or an *Error", in, n, err)
	return 0, ""
}

func TestParseTargetBytes(t *testing.T) {
	tests := []struct {
		name   string
		target string
		reason string // "" when the target is accepted
	}{
		{"unreserved and sub-delims", "/a-b.c_d~e!f$g&h'i(j)k*l+m,n;o=p:q@r", ""},
		{"query with slash and question mark", "/p?a=/b?c", ""},
		{"percent-encoded utf-8", "/caf%C3%A9", ""},
		{"browser raw characters", "/a|b\\c^d`e{f}g[h]", ""},
		{"raw utf-8", "/caf\xc3\xa9", "invalid request target"},
		{"raw 0xff", "/f\xff.html", "invalid request target"},
		{"raw 0x80", "/\x80", "invalid request target"},
		{"fragment", "/f500.html#x", "invalid request target"},
		{"empty fragment", "/f500.html#", "invalid request target"},
		{"fragment after query", "/p?q=1#frag", "invalid request target"},
		{"double quote", "/a\"b", "invalid request target"},
		{"less than", "/a<b", "invalid request target"},
		{"greater than", "/a>b", "invalid request target"},
		{"tab", "/a\tb", "invalid request target"},
		{"escape", "/a\x1bb", "invalid request target"},
		{"del", "/a\x7fb", "invalid request target"},
		{"absolute-form fragment", "http://h/a#b", "invalid request target"},
		{"absolute-form raw high byte", "http://h\xc3\xa9/a", "invalid request target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "GET " + tt.target + " HTTP/1.1\r\nHost: h\r\n\r\n"
			status, reason := parseStatus(t, in)
			want := 0
			if tt.reason != "" {
				want = 400
			}
			if status != want || reason != tt.reason {
				t.Errorf("Parse(%q): got %d %q, want %d %q", in, status, reason, want, tt.reason)
			}
		})
	}
}

// hostTests are Host values and whether RFC 9110 7.2 allows them.
var hostTests = []struct {
	host  string
	valid bool
}{
	{"", true},
	{"localhost", true},
	{"localhost:8080", true},
	{"localhost:", true}, // port = *DIGIT
	{"127.0.0.1:80", true},
	{"Example.COM", true},
	{"xn--caf-dma.example", true},
	{"a_b~c-d.e", true},
	{"a!$&'()*+,;=b", true},
	{"a%20b", true},
	{"[::1]", true},
	{"[::1]:8080", true},
	{"[2001:db8::ff00:42:8329]", true},
	{"[2001:0db8:0000:0000:0000:ff00:0042:8329]:443", true},
	{"[::]", true},
	{"[1::]", true},
	{"[::ffff:192.0.2.1]", true},
	{"[1:2:3:4:5:6:192.0.2.1]", true},
	{"[v1.fe80::a+en1]", true},
	{"a b", false},
	{"a\tb", false},
	{"local/host", false},
	{"local?host", false},
	{"local#host", false},
	{"user@localhost", false},
	{"localhost:80a", false},
	{"localhost:80:81", false},
	{"caf\xc3\xa9", false},
	{"a\"b", false},
	{"a%2", false},
	{"a%zz", false},
	{"[::1", false},
	{"::1", false},
	{"[::1]x", false},
	{"[::1]:8x", false},
	{"[]", false},
	{"[:]", false},
	{"[:::]", false},
	{"[1:::2]", false},
	{"[1::2::3]", false},
	{"[1:]", false},
	{"[:1]", false},
	{"[12345::]", false},
	{"[g::]", false},
	{"[1:2:3:4:5:6:7]", false},
	{"[1:2:3:4:5:6:7:8:9]", false},
	{"[1:2:3:4:5:6:7::8]", false},
	{"[::256.0.0.1]", false},
	{"[::01.2.3.4]", false},
	{"[::1.2.3]", false},
	{"[::1.2.3.4.5]", false},
	{"[1:2:3:4:5:6:7:1.2.3.4]", false},
	{"[127.0.0.1]", false},
	{"[v.x]", false},
	{"[v1.]", false},
	{"[vg.x]", false},
	{"[v1.a/b]", false},
}

func TestParseHost(t *testing.T) {
	for _, tt := range hostTests {
		for _, version := range []string{"1.1", "1.0"} {
			t.Run(version+"/"+tt.host, func(t *testing.T) {
				in := "GET / HTTP/" + version + "\r\nHost: " + tt.host + "\r\n\r\n"
				status, reason := parseStatus(t, in)
				want, wantReason := 0, ""
				if !tt.valid {
					want, wantReason = 400, "invalid host"
				}
				if status != want || reason != wantReason {
					t.Errorf("Parse(%q): got %d %q, want %d %q", in, status, reason, want, wantReason)
				}
			})
		}
	}
}

// TestParseAbsoluteFormHost checks the authority of an absolute-form
// target against the same grammar, except that an http URI needs a host
// (RFC 9110 4.2.1).
func TestParseAbsoluteFormHost(t *testing.T) {
	for _, tt := range hostTests {
		if strings.ContainsAny(tt.host, " /?") {
			continue // a space ends the target, "/" and "?" the authority
		}
		t.Run(tt.host, func(t *testing.T) {
			in := "GET http://" + tt.host + "/a HTTP/1.1\r\nHost: h\r\n\r\n"
			want, wantReason := 0, ""
			if !tt.valid || tt.host == "" || tt.host[0] == ':' {
				want, wantReason = 400, "invalid request target"
			}
			if status, reason := parseStatus(t, in); status != want || reason != wantReason {
				t.Errorf("Parse(%q): got %d %q, want %d %q", in, status, reason, want, wantReason)
			}
		})
	}
	for _, in := range []string{
		"GET http://:80/a HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET http:///a HTTP/1.1\r\nHost: h\r\n\r\n",
	} {
		if status, reason := parseStatus(t, in); status != 400 || reason != "invalid request target" {
			t.Errorf("Parse(%q): got %d %q, want 400 %q", in, status, reason, "invalid request target")
		}
	}
}

// FuzzIPLiteral checks the IPv6 grammar of Host against net/netip: a
// bracketed address is accepted exactly when netip parses it as an IPv6
// address without a zone (RFC 3986 has no zone; IPvFuture, "v...", is
// left out).
func FuzzIPLiteral(f *testing.F) {
	for _, tt := range hostTests {
		if inner, ok := strings.CutPrefix(tt.host, "["); ok {
			inner, _, _ = strings.Cut(inner, "]")
			f.Add(inner)
		}
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if strings.Trim(addr, "0123456789abcdefABCDEF:.") != "" {
			return // other bytes: refused by both, or not an address
		}
		in := "GET / HTTP/1.1\r\nHost: [" + addr + "]\r\n\r\n"
		ip, err := netip.ParseAddr(addr)
		want := err == nil && ip.Is6() && ip.Zone() == ""
		status, _ := parseStatus(t, in)
		if got := status == 0; got != want {
			t.Errorf("Parse(%q): got accepted %v, want %v (netip: %v, %v)", in, got, want, ip, err)
		}
	})
}
