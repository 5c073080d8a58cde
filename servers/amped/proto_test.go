package amped_test

import (
	"bytes"
	"errors"
	"strings"
	"syscall"
	"testing"

	"flashbench/servers/amped"
)

func TestRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		req  amped.Request
	}{
		{"resolve", amped.Request{ID: 1, Kind: amped.KindResolve, Path: "/dir00001/class1_3"}},
		{"page-in", amped.Request{ID: 1<<64 - 1, Kind: amped.KindPageIn, Offset: 512 << 10, Length: 1 << 20, Path: "fixed/f000001"}},
		{"longest path", amped.Request{ID: 7, Kind: amped.KindResolve, Path: "/" + strings.Repeat("a", amped.MaxPath-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := amped.AppendRequest([]byte("x"), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			got, n, err := amped.DecodeRequest(b[1:])
			if err != nil || n != len(b)-1 || got != tt.req {
				t.Fatalf("DecodeRequest(AppendRequest(%+v)) = %+v, %d, %v; want it back, %d, nil", tt.req, got, n, err, len(b)-1)
			}
			for i := 1; i < len(b)-1; i++ {
				if _, _, err := amped.DecodeRequest(b[1:i]); !errors.Is(err, amped.ErrShort) {
					t.Fatalf("DecodeRequest of %d of %d bytes: got %v, want ErrShort", i-1, len(b)-1, err)
				}
			}
		})
	}
}

func TestRequestInvalid(t *testing.T) {
	tests := []struct {
		name string
		req  amped.Request
	}{
		{"kind 0", amped.Request{Kind: 0, Path: "/a"}},
		{"kind 3", amped.Request{Kind: 3, Path: "/a"}},
		{"negative offset", amped.Request{Kind: amped.KindPageIn, Offset: -1, Path: "a"}},
		{"negative length", amped.Request{Kind: amped.KindPageIn, Length: -1, Path: "a"}},
		{"range overflows", amped.Request{Kind: amped.KindPageIn, Offset: 1 << 62, Length: 1 << 62, Path: "a"}},
		{"empty path", amped.Request{Kind: amped.KindResolve}},
		{"path too long", amped.Request{Kind: amped.KindResolve, Path: strings.Repeat("a", amped.MaxPath+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := amped.AppendRequest(nil, tt.req); !errors.Is(err, amped.ErrMalformed) {
				t.Errorf("AppendRequest(%+v): got %v, want ErrMalformed", tt.req, err)
			}
		})
	}
	// The same refusals on the decoding side, from hand-made bytes.
	good, _ := amped.AppendRequest(nil, amped.Request{Kind: amped.KindResolve, Path: "/a"})
	bad := bytes.Clone(good)
	bad[8] = 9 // kind
	if _, _, err := amped.DecodeRequest(bad); !errors.Is(err, amped.ErrMalformed) {
		t.Errorf("DecodeRequest with kind 9: got %v, want ErrMalformed", err)
	}
	bad = bytes.Clone(good)
	bad[25], bad[26] = 0xff, 0xff // path length beyond MaxPath
	if _, _, err := amped.DecodeRequest(bad); !errors.Is(err, amped.ErrMalformed) {
		t.Errorf("DecodeRequest with a 65535-byte path: got %v, want ErrMalformed", err)
	}
}

func TestReplyRoundTrip(t *testing.T) {
	for _, r := range []amped.Reply{{ID: 0}, {ID: 42, Errno: syscall.ENOENT}, {ID: 1<<64 - 1, Errno: syscall.EFAULT}} {
		b := amped.AppendReply(nil, r)
		got, n, err := amped.DecodeReply(b)
		if err != nil || n != amped.ReplySize || got != r {
			t.Errorf("DecodeReply(AppendReply(%+v)) = %+v, %d, %v; want it back", r, got, n, err)
		}
		if _, _, err := amped.DecodeReply(b[:len(b)-1]); !errors.Is(err, amped.ErrShort) {
			t.Errorf("DecodeReply of %d bytes: got %v, want ErrShort", len(b)-1, err)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to both decoders: they never panic, and
// whatever they accept encodes back to exactly the bytes they consumed.
func FuzzDecode(f *testing.F) {
	seed, _ := amped.AppendRequest(nil, amped.Request{ID: 3, Kind: amped.KindPageIn, Offset: 4096, Length: 8192, Path: "fixed/f000002"})
	f.Add(seed)
	f.Add(amped.AppendReply(nil, amped.Reply{ID: 3, Errno: syscall.EIO}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if req, n, err := amped.DecodeRequest(b); err == nil {
			again, err := amped.AppendRequest(nil, req)
			if err != nil || !bytes.Equal(again, b[:n]) {
				t.Fatalf("request %+v decoded from %q re-encodes to %q, %v", req, b[:n], again, err)
			}
		} else if !errors.Is(err, amped.ErrShort) && !errors.Is(err, amped.ErrMalformed) {
			t.Fatalf("DecodeRequest: got %v, want ErrShort or ErrMalformed", err)
		}
		if r, n, err := amped.DecodeReply(b); err == nil {
			if again := amped.AppendReply(nil, r); !bytes.Equal(again, b[:n]) {
				t.Fatalf("reply %+v decoded from %q re-encodes to %q", r, b[:n], again)
			}
		}
	})
}
