package baseline

import (
	"context"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"flashbench/servers/internal/httpconn"
)

// FastHTTP is fasthttp.Server with fasthttp.FS on a document root: no
// compression, no generated directory pages, no byte ranges, index.html
// as the index; fasthttp's own open-file cache stays on, as it ships.
type FastHTTP struct {
	srv  *fasthttp.Server
	ln   net.Listener
	stop *stopping
}

// NewFastHTTP returns a fasthttp file server for root on the listening
// socket lfd. The caller keeps ownership of lfd.
func NewFastHTTP(lfd int, root string, opts httpconn.ServeOptions) (*FastHTTP, error) {
	opts = opts.WithDefaults()
	m, err := cgiManager(opts)
	if err != nil {
		return nil, err
	}
	ln, err := fileListener(lfd, opts)
	if err != nil {
		return nil, err
	}
	fs := &fasthttp.FS{
		Root:               root,
		IndexNames:         []string{"index.html"},
		GenerateIndexPages: false,
		Compress:           false,
		AcceptByteRange:    false,
	}
	h := fastCGIHandler(fs.NewRequestHandler(), m)
	srv := &fasthttp.Server{
		Handler:      h,
		ReadTimeout:  opts.HeaderTimeout,
		IdleTimeout:  opts.IdleTimeout,
		WriteTimeout: opts.WriteTimeout,
		Logger:       discard{},
	}
	if c := opts.Stats; c != nil {
		srv.Handler = func(ctx *fasthttp.RequestCtx) {
			h(ctx)
			c.Response(ctx.Response.StatusCode())
		}
	}
	return &FastHTTP{srv: srv, ln: ln, stop: newStopping(lfd)}, nil
}

// Addr returns the listening address.
func (s *FastHTTP) Addr() net.Addr { return s.ln.Addr() }

// Run serves until Shutdown has finished.
func (s *FastHTTP) Run() error {
	return s.stop.wait(s.srv.Serve(s.ln))
}

// Shutdown stops accepting and waits up to deadline for the connections
// to go idle and close.
func (s *FastHTTP) Shutdown(deadline time.Duration) {
	s.stop.begin()
	defer s.stop.end()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	s.srv.ShutdownWithContext(ctx)
}

// discard is a fasthttp.Logger that drops everything.
type discard struct{}

func (discard) Printf(string, ...any) {}
