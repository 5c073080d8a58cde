package app_test

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"flashbench/cgi-apps/app"
	"flashbench/cgi-apps/cgiproto"
)

func TestQuery(t *testing.T) {
	tests := []struct{ query, name string }{
		{"size=51200", "size"},
		{"a=1&size=2&size=3", "size"},
		{"size", "size"},
		{"size=", "size"},
		{"x=1", "size"},
		{"", "size"},
		{"&&size=4&", "size"},
		{"si%7Ae=5", "size"},
		{"size=%zz&size=6", "size"},
		{"size=a+b%20c", "size"},
		{"size=7;x=1&size=8", "size"},
		{"%=1&user=u%2F1", "user"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			checkQuery(t, tt.query, tt.name)
		})
	}
}

// FuzzQuery checks Request.Query against url.ParseQuery.
func FuzzQuery(f *testing.F) {
	f.Add("size=51200&user=a%20b", "user")
	f.Add("a=1;b=2&a=%zz&a=+", "a")
	f.Fuzz(checkQuery)
}

func checkQuery(t *testing.T, query, name string) {
	want := ""
	if v, _ := url.ParseQuery(query); v != nil {
		want = v.Get(name)
	}
	req := app.Request{Request: cgiproto.Request{Query: []byte(query)}}
	if got := req.Query(name); got != want {
		t.Errorf("Query(%q) of %q: got %q, want %q (url.ParseQuery)", name, query, got, want)
	}
}

// TestServeBatch: requests that arrive together are all answered before
// any response is written, and the responses come out in order.
func TestServeBatch(t *testing.T) {
	var in, out bytes.Buffer
	for i := range 3 {
		in.Write(cgiproto.AppendRequest(nil, &cgiproto.Request{ID: uint64(i + 1), Method: []byte("GET"), Query: []byte("n=" + strconv.Itoa(i))}))
	}
	var written []int
	err := app.Serve(&in, &out, nil, func(req *app.Request, resp *app.Response) {
		written = append(written, out.Len())
		resp.Write([]byte(req.Query("n")))
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(written, []int{0, 0, 0}) {
		t.Errorf("output written before each handler call: got %v, want none before the batch ends", written)
	}
	r := cgiproto.NewReader(&out)
	for i := range 3 {
		resp := nextResponse(t, r)
		if resp.ID != uint64(i+1) || string(resp.Body) != strconv.Itoa(i) {
			t.Errorf("response %d: got id %d body %q, want id %d body %q", i, resp.ID, resp.Body, i+1, strconv.Itoa(i))
		}
	}
}

// TestServeAnswersBeforeWaiting: a program answers what it has before it
// waits for more input; a server waiting for that answer before it sends
// the next request would otherwise wait forever.
func TestServeAnswersBeforeWaiting(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- app.Serve(inR, outW, nil, func(req *app.Request, resp *app.Response) { resp.Write(req.Request.Query) })
		outW.Close()
	}()
	r := cgiproto.NewReader(outR)
	for i := range 3 {
		q := "q" + strconv.Itoa(i)
		inW.Write(cgiproto.AppendRequest(nil, &cgiproto.Request{ID: uint64(i + 1), Method: []byte("GET"), Query: []byte(q)}))
		got := make(chan cgiproto.Response, 1)
		errs := make(chan error, 1)
		go func() {
			resp, err := readResponse(r)
			got <- resp
			errs <- err
		}()
		select {
		case resp := <-got:
			if err := <-errs; err != nil {
				t.Fatalf("response %d: %v", i, err)
			}
			if resp.ID != uint64(i+1) || string(resp.Body) != q {
				t.Fatalf("response %d: got id %d body %q, want id %d body %q", i, resp.ID, resp.Body, i+1, q)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("response %d: none while the program waits for the next request", i)
		}
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Errorf("serve: got %v, want nil at the end of input", err)
	}
}

// nextResponse reads and decodes one response frame.
func nextResponse(t *testing.T, r *cgiproto.Reader) cgiproto.Response {
	t.Helper()
	resp, err := readResponse(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// readResponse reads and decodes one response frame, copying its body.
func readResponse(r *cgiproto.Reader) (cgiproto.Response, error) {
	kind, payload, err := r.Next()
	var resp cgiproto.Response
	if err == nil && kind != cgiproto.KindResponse {
		err = fmt.Errorf("got frame kind %d, want a response", kind)
	}
	if err == nil {
		err = cgiproto.DecodeResponse(payload, &resp)
	}
	if err != nil {
		return resp, fmt.Errorf("response: %w", err)
	}
	resp.Body = bytes.Clone(resp.Body)
	resp.ContentType = bytes.Clone(resp.ContentType)
	resp.Segments = append([]cgiproto.Segment(nil), resp.Segments...)
	return resp, nil
}

// BenchmarkServe measures the runtime's own work per request for a kept
// body over pipes: decoding the request, looking up the query and the
// kept body, encoding the response head, batching the write.
func BenchmarkServe(b *testing.B) {
	const batch = 2000
	var in bytes.Buffer
	for i := range batch {
		in.Write(cgiproto.AppendRequest(nil, &cgiproto.Request{ID: uint64(i + 1), Method: []byte("GET"),
			Path: []byte("/cgi-bin/dyn"), Query: []byte("size=51200"),
			Headers: []cgiproto.Header{{Name: []byte("Host"), Value: []byte("127.0.0.1:8080")}}}))
	}
	frames := in.Bytes()
	body := make([]byte, 51200)
	h := func(req *app.Request, resp *app.Response) {
		n, _ := strconv.Atoi(req.Query("size"))
		resp.ContentType = "text/plain"
		resp.Cached(strconv.Itoa(n), n, func(p []byte) { copy(p, body) })
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := app.Serve(bytes.NewReader(frames), io.Discard, nil, h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/request")
}
