// Package baseline holds the reference servers a Go programmer would pick
// to serve static files: the standard library's net/http with
// http.FileServer, and fasthttp with fasthttp.FS. They share none of
// httpcore: they are the yardstick the flashbench architectures are held
// against, each configured for static files the way its documentation
// suggests, with the same options as the flashbench servers (httpconn.ServeOptions) and no
// request logging.
//
// Both run on a listening socket they are given as a descriptor, so that
// the harness starts them like every other architecture. Their answers to
// the conformance suite are reported, not required: they are what they
// are.
package baseline

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/cgi"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
)

// cgiManager returns the CGI face in opts: the baselines call the
// persistent programs through a cgi.Manager, or serve no CGI (nil).
func cgiManager(opts httpconn.ServeOptions) (*cgi.Manager, error) {
	if opts.CGI == nil {
		return nil, nil
	}
	m, ok := opts.CGI.(*cgi.Manager)
	if !ok {
		return nil, fmt.Errorf("baseline: the CGI face %T is not a cgi.Manager", opts.CGI)
	}
	return m, nil
}

// fileListener returns a net.Listener on a duplicate of lfd, so that the
// caller keeps ownership of lfd, with the flashbench accept routine
// (listen.Net): failures retried or backed off by their class (fasthttp
// takes EMFILE for permanent and would end Serve), opts.MaxConns, and the
// counts in opts.Stats. The listener uses the Go netpoller (it makes the
// shared socket non-blocking).
func fileListener(lfd int, opts httpconn.ServeOptions) (net.Listener, error) {
	dup, err := unix.FcntlInt(uintptr(lfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("baseline: listener: %w", os.NewSyscallError("fcntl", err))
	}
	f := os.NewFile(uintptr(dup), "listener")
	defer f.Close() // FileListener holds its own duplicate
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("baseline: listener: %w", err)
	}
	return listen.Net(ln, opts.MaxConns, listen.Counting(opts.Stats)), nil
}

// stopping makes Run outlast Shutdown: net/http's and fasthttp's Serve
// return as soon as a shutdown begins, before the requests in flight are
// done, and the process would exit under them. It also stops the shared
// listening socket itself, which the servers' own duplicates of it would
// leave listening.
type stopping struct {
	stop *listen.Stop
	done chan struct{}
}

func newStopping(lfd int) *stopping {
	return &stopping{stop: listen.NewStop(lfd), done: make(chan struct{})}
}

// begin marks the shutdown begun and refuses new connections from now on
// (listen.Stop shuts the listening socket down, as the event loops do).
func (s *stopping) begin() { s.stop.Begin(0) }

// end marks the shutdown over.
func (s *stopping) end() { close(s.done) }

// wait is what Run returns after Serve returned err: nil once the
// shutdown under way has ended, err when no shutdown was asked for.
func (s *stopping) wait(err error) error {
	select {
	case <-s.stop.C():
	default:
		return err
	}
	<-s.done
	return nil
}
