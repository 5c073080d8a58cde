package baseline

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/stats"
)

// ServerName is the Server field the net/http baseline adds: net/http
// sends none, and every flashbench server (and fasthttp) sends one.
const ServerName = "net/http"

// NetHTTP is net/http.Server with http.FileServer on a document root,
// keep-alive on.
type NetHTTP struct {
	srv  *http.Server
	ln   net.Listener
	root *os.Root
	stop *stopping
}

// NewNetHTTP returns a net/http file server for root on the listening
// socket lfd. The caller keeps ownership of lfd.
func NewNetHTTP(lfd int, root string, opts httpconn.ServeOptions) (*NetHTTP, error) {
	opts = opts.WithDefaults()
	m, err := cgiManager(opts)
	if err != nil {
		return nil, err
	}
	ln, err := fileListener(lfd, opts)
	if err != nil {
		return nil, err
	}
	// os.Root confines the file server to root: http.Dir would follow a
	// symlink out of it.
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("nethttp: %w", err)
	}
	var h http.Handler = http.FileServerFS(r.FS())
	h = withCGI(named(h), m)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: opts.HeaderTimeout,
		IdleTimeout:       opts.IdleTimeout,
		WriteTimeout:      opts.WriteTimeout,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	if c := opts.Stats; c != nil {
		srv.Handler = counted(h, c)
	}
	return &NetHTTP{srv: srv, ln: ln, root: r, stop: newStopping(lfd)}, nil
}

// Addr returns the listening address.
func (s *NetHTTP) Addr() net.Addr { return s.ln.Addr() }

// Run serves until Shutdown has finished.
func (s *NetHTTP) Run() error {
	return s.stop.wait(s.srv.Serve(s.ln))
}

// Shutdown stops accepting, waits up to deadline for the requests in
// flight, then closes every connection.
func (s *NetHTTP) Shutdown(deadline time.Duration) {
	s.stop.begin()
	defer s.stop.end()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		s.srv.Close()
	}
	s.root.Close() // every handler has returned: nothing opens files any more
}

// named adds the Server field.
func named(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", ServerName)
		h.ServeHTTP(w, r)
	})
}

// counted counts every response by status.
func counted(h http.Handler, c *stats.Counters) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		if cw.status == 0 {
			cw.status = http.StatusOK
		}
		c.Response(cw.status)
	})
}

// statusWriter remembers the status. It passes ReadFrom through, so that
// http.ServeContent still sends files with sendfile.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
