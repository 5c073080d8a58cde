package listen

import (
	"net"
	"sync"
)

// Net returns ln with the accept routine of the flashbench architectures,
// for the servers built on a net.Listener (the baselines): Accept acts on
// a failure by its Class as an Acceptor does (retries, backs off after a
// Resource failure, returns the rest), bounds the connections open at once
// to maxConns when positive (a connection's Close frees its slot), and
// counts in counts. Without a bound, the connections are ln's own, so
// that a server's type assertions (*net.TCPConn: writev, sendfile) hold.
func Net(ln net.Listener, maxConns int, counts Counters) net.Listener {
	return &netListener{Listener: ln, limit: NewLimit(maxConns), counts: counts, closed: make(chan struct{})}
}

type netListener struct {
	net.Listener
	limit  *Limit
	counts Counters
	closed chan struct{}
	once   sync.Once
}

// Accept waits for a free slot, then for a connection.
func (l *netListener) Accept() (net.Conn, error) {
	if !l.limit.Acquire(l.closed) {
		return nil, net.ErrClosed
	}
	for {
		c, err := l.Listener.Accept()
		class := Classify(err)
		l.counts.count(class)
		switch class {
		case Accepted:
			return l.hold(c), nil
		case Empty, Retry:
			continue
		case Resource:
			sleep(Backoff, l.closed)
			continue
		}
		l.limit.Release()
		return nil, err
	}
}

// Close closes the listener and ends an Accept waiting for a slot.
func (l *netListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// hold returns c holding its slot until it is closed.
func (l *netListener) hold(c net.Conn) net.Conn {
	if l.limit == nil {
		return c
	}
	r := &release{limit: l.limit}
	if tc, ok := c.(*net.TCPConn); ok {
		return &heldTCPConn{TCPConn: tc, release: r}
	}
	return &heldConn{Conn: c, release: r}
}

// release gives a connection's slot back once, however often it is
// closed.
type release struct {
	once  sync.Once
	limit *Limit
}

func (r *release) do() { r.once.Do(r.limit.Release) }

// heldTCPConn is a TCP connection holding a slot: it keeps the methods of
// *net.TCPConn (ReadFrom for sendfile, CloseWrite) for the servers that
// look for them.
type heldTCPConn struct {
	*net.TCPConn
	release *release
}

// Close closes the connection and frees its slot.
func (c *heldTCPConn) Close() error {
	err := c.TCPConn.Close()
	c.release.do()
	return err
}

// heldConn is any other connection holding a slot.
type heldConn struct {
	net.Conn
	release *release
}

// Close closes the connection and frees its slot.
func (c *heldConn) Close() error {
	err := c.Conn.Close()
	c.release.do()
	return err
}
