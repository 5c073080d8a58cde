package soak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The files the hostile clients ask for: one small, one large (the
// largest of the SPECweb99 set, 900 KB).
const (
	smallFile = "dir00000/class1_3"
	largeFile = "dir00000/class3_8"
)

// Hostile client parameters.
const (
	slowlorisConns = 3
	slowlorisHold  = 6 * time.Second
	slowReadFor    = 5 * time.Second
)

// wantFile returns a file of the docroot's content.
func (e *faultEnv) wantFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(e.r.root.dir, name))
}

// injectSlowloris opens connections that send a request header a byte at
// a time and never finish it.
func injectSlowloris(ctx context.Context, e *faultEnv, f *Fault) {
	var conns []*net.TCPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range slowlorisConns {
		c, err := dial(ctx, e.a.srv.addr, 0)
		if err != nil {
			f.Outcome = "connect: " + err.Error()
			continue
		}
		c.SetWriteDeadline(time.Now().Add(slowlorisHold + ioTimeout))
		if _, err := c.Write([]byte("GET /" + smallFile + " HTTP/1.1\r\nHost: soak\r\nX-Slow: ")); err == nil {
			conns = append(conns, c)
		} else {
			c.Close()
		}
	}
	open := len(conns)
	closed := 0
	for end := time.Now().Add(slowlorisHold); time.Now().Before(end) && sleep(ctx, 300*time.Millisecond); {
		for i, c := range conns {
			if c == nil {
				continue
			}
			if _, err := c.Write([]byte("a")); err != nil {
				closed++
				c.Close()
				conns[i] = nil
			}
		}
	}
	conns = compact(conns)
	f.Outcome = fmt.Sprintf("%d connections sent a header a byte every 300ms for %v; the server closed %d", open, slowlorisHold, closed)
}

func compact(cs []*net.TCPConn) []*net.TCPConn {
	var out []*net.TCPConn
	for _, c := range cs {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// startDownload connects with a small receive buffer, sends a GET of
// urlPath and reads the response head; the body is left to the caller.
func startDownload(ctx context.Context, addr, urlPath string, rcvbuf int) (*net.TCPConn, *http.Response, error) {
	c, err := dial(ctx, addr, rcvbuf)
	if err != nil {
		return nil, nil, err
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write(get(urlPath)); err != nil {
		c.Close()
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4<<10), nil)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, nil, fmt.Errorf("got status %d, want 200", resp.StatusCode)
	}
	return c, resp, nil
}

// injectSlowReader downloads the large file at 20 KB/s through a 4 KB
// receive buffer for a few seconds, then goes away.
func injectSlowReader(ctx context.Context, e *faultEnv, f *Fault) {
	want, err := e.wantFile(largeFile)
	if err != nil {
		f.Outcome = err.Error()
		return
	}
	c, resp, err := startDownload(ctx, e.a.srv.addr, "/"+largeFile, 4<<10)
	if err != nil {
		f.Outcome, f.Finding = "download: "+err.Error(), "slow reader: "+err.Error()
		return
	}
	defer c.Close()
	var got []byte
	buf := make([]byte, 2<<10)
	for end := time.Now().Add(slowReadFor); time.Now().Before(end) && sleep(ctx, 100*time.Millisecond); {
		c.SetReadDeadline(time.Now().Add(ioTimeout))
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	f.Outcome = fmt.Sprintf("read %d of %d bytes in %v, then closed", len(got), len(want), slowReadFor)
	if ok, at := isPrefix(got, want); !ok {
		f.Finding = fmt.Sprintf("slow reader: body departs from the file at byte %d: %s", at, describe(got[at:]))
	}
}

// injectReset starts a download of the large file and resets the
// connection (SO_LINGER 0) in the middle of it.
func injectReset(ctx context.Context, e *faultEnv, f *Fault) {
	c, resp, err := startDownload(ctx, e.a.srv.addr, "/"+largeFile, 16<<10)
	if err != nil {
		f.Outcome, f.Finding = "download: "+err.Error(), "reset: "+err.Error()
		return
	}
	n, _ := io.CopyN(io.Discard, resp.Body, 64<<10)
	c.SetLinger(0)
	c.Close()
	f.Outcome = fmt.Sprintf("reset the connection after %d body bytes", n)
}

// injectHalfClose sends a request and shuts down its writing side: the
// whole response must still come, then the connection's end.
func injectHalfClose(ctx context.Context, e *faultEnv, f *Fault) {
	want, c := smallFileConn(ctx, e, f)
	if c == nil {
		return
	}
	defer c.Close()
	c.Write(get("/" + smallFile))
	c.CloseWrite()
	br := bufio.NewReader(c)
	status, body, err := readResponse(br)
	if err != nil || status != http.StatusOK || !bytes.Equal(body, want) {
		f.Outcome = fmt.Sprintf("response after half-close: status %d, %d bytes, %v", status, len(body), err)
		f.Finding = "half-close: " + f.Outcome
		return
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = br.ReadByte()
	f.Outcome = "whole response after half-close, then " + endOf(err)
}

// smallFileConn returns the small file's content and a connection to the
// faulted server with the fault's I/O deadline set, or a nil connection
// with f's outcome saying what failed.
func smallFileConn(ctx context.Context, e *faultEnv, f *Fault) ([]byte, *net.TCPConn) {
	want, err := e.wantFile(smallFile)
	if err != nil {
		f.Outcome = err.Error()
		return nil, nil
	}
	c, err := dial(ctx, e.a.srv.addr, 0)
	if err != nil {
		f.Outcome = "connect: " + err.Error()
		return nil, nil
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	return want, c
}

// endOf names how a connection ended.
func endOf(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF):
		return "closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "kept open"
	case err == nil:
		return "more bytes"
	}
	return "error: " + err.Error()
}

// garbage is what follows a valid request on the garbage fault's
// connection: a TLS record header and bytes no parser accepts.
var garbage = []byte("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 \xff\xfe\x00garbage\r\n\r\n")

// injectGarbage sends a valid request followed by garbage on the same
// connection: the first response must be whole and right.
func injectGarbage(ctx context.Context, e *faultEnv, f *Fault) {
	want, c := smallFileConn(ctx, e, f)
	if c == nil {
		return
	}
	defer c.Close()
	c.Write(append(get("/"+smallFile), garbage...))
	br := bufio.NewReader(c)
	status, body, err := readResponse(br)
	if err != nil || status != http.StatusOK || !bytes.Equal(body, want) {
		f.Outcome = fmt.Sprintf("first response: status %d, %d bytes, %v", status, len(body), err)
		f.Finding = "garbage after a request: " + f.Outcome
		return
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, _, err = readResponse(br)
	if err == nil {
		f.Outcome = fmt.Sprintf("whole first response, then status %d for the garbage", status)
		return
	}
	f.Outcome = "whole first response, then " + endOf(err)
}
