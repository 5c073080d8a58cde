package loadgen

import (
	"errors"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// dialer makes the worker's non-blocking sockets: options, source address,
// connect. It holds its addresses in the kernel's layout so that dialing
// neither converts nor allocates.
//
// Binding a source address costs two system calls per connection and is
// only needed when the client runs out of ephemeral ports, which happens
// when it closes connections first and leaves them in TIME_WAIT. So a
// loopback target gets its default spread of sources (127.0.0.1 to
// 127.0.0.254) only once connect has reported the ports exhausted; sources
// the user named are bound from the start.
type dialer struct {
	remote   rawAddr
	family   int
	sources  []rawAddr
	spread   []rawAddr // the default sources, bound once ports run out
	next     int
	nodelay  bool
	linger   bool
	lingerV  unix.Linger
	addrPort netip.AddrPort
}

func newDialer(c *Config, t target, worker int) *dialer {
	d := &dialer{addrPort: t.addr, nodelay: c.Pipeline > 1 || c.RequestsPerConn != 1, linger: c.CloseWithReset}
	sa, fam := sockaddr(t.addr)
	d.remote, d.family = newRawAddr(sa), fam
	d.sources = d.rawSources(c.Sources)
	if c.Sources == nil && t.addr.Addr().Is4() && t.addr.Addr().IsLoopback() && c.RequestsPerConn != 0 {
		var spread []netip.Addr
		for x := 1; x < 255; x++ {
			spread = append(spread, netip.AddrFrom4([4]byte{127, 0, 0, byte(x)}))
		}
		d.spread = d.rawSources(spread)
	}
	// Workers start at different source addresses so they spread evenly.
	d.next = worker * 37
	if n := max(len(d.sources), len(d.spread)); n > 0 {
		d.next %= n
	}
	return d
}

// rawSources converts the addresses of the target's family.
func (d *dialer) rawSources(addrs []netip.Addr) []rawAddr {
	var out []rawAddr
	for _, s := range addrs {
		sa, fam := sockaddr(netip.AddrPortFrom(s, 0))
		if fam == d.family {
			out = append(out, newRawAddr(sa))
		}
	}
	return out
}

// exhausted reports the ephemeral ports exhausted; it reports whether a
// retry may help, because the default sources were not bound yet.
func (d *dialer) exhausted() bool {
	if len(d.sources) > 0 || len(d.spread) == 0 {
		return false
	}
	d.sources, d.spread = d.spread, nil
	return true
}

// connect opens slot c's next socket and starts connecting it: 0 when
// connected at once, EINPROGRESS when under way, or the failure. On a
// failure after the socket was made, c keeps it, for closeConn.
func (d *dialer) connect(c *conn) unix.Errno {
	fd, err := d.socket()
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return errno
		}
		return unix.EINVAL
	}
	c.fd, c.connecting = fd, true
	return rawConnect(fd, &d.remote)
}

func sockaddr(ap netip.AddrPort) (unix.Sockaddr, int) {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}, unix.AF_INET
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}, unix.AF_INET6
}

// socket returns a new non-blocking socket with its options and source
// address set, not yet connected.
func (d *dialer) socket() (int, error) {
	fd, errno := rawSocket(d.family)
	if errno != 0 {
		return -1, os.NewSyscallError("socket", errno)
	}
	if err := d.setup(fd); err != nil {
		rawClose(fd)
		return -1, err
	}
	return fd, nil
}

func (d *dialer) setup(fd int) error {
	if d.nodelay {
		if errno := rawSetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); errno != 0 {
			return os.NewSyscallError("setsockopt", errno)
		}
	}
	if d.linger {
		d.lingerV = unix.Linger{Onoff: 1, Linger: 0}
		if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &d.lingerV); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if len(d.sources) == 0 {
		return nil
	}
	if d.family == unix.AF_INET {
		// Defer the port choice to connect, so ports are shared across
		// destinations and addresses instead of reserved at bind.
		rawSetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	}
	src := &d.sources[d.next%len(d.sources)]
	if d.next++; d.next >= len(d.sources) {
		d.next = 0
	}
	if errno := rawBind(fd, src); errno != 0 {
		return os.NewSyscallError("bind", errno)
	}
	return nil
}

// connectClass maps a failed connection attempt to its error class.
func connectClass(err error) ErrorClass {
	switch {
	case errors.Is(err, unix.EADDRNOTAVAIL), errors.Is(err, unix.EADDRINUSE),
		errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE), errors.Is(err, unix.ENOBUFS):
		return AddrExhausted
	case errors.Is(err, unix.ETIMEDOUT):
		return ConnectTimeout
	case errors.Is(err, unix.ECONNRESET):
		return Reset
	}
	return ConnectRefused
}

// ioClass maps a failed read or write to its error class.
func ioClass(err error, write bool) ErrorClass {
	switch {
	case errors.Is(err, unix.ECONNRESET), errors.Is(err, unix.EPIPE), errors.Is(err, unix.ECONNABORTED):
		return Reset
	case errors.Is(err, unix.ETIMEDOUT):
		return Timeout
	case write:
		return WriteError
	}
	return ReadError
}

// Preflight makes one blocking connection to the target and closes it, so
// that an unreachable server is one clear error before the run starts.
func Preflight(rawURL string) error {
	t, err := parseTarget(rawURL)
	if err != nil {
		return err
	}
	sa, fam := sockaddr(t.addr)
	fd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	tv := unix.Timeval{Sec: 3}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	if err := unix.Connect(fd, sa); err != nil {
		return &os.SyscallError{Syscall: "connect " + t.addr.String(), Err: err}
	}
	return nil
}
