package loadgen

import (
	"errors"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// dialer makes the worker's non-blocking sockets: options, source address,
// connect. It holds preallocated sockaddrs so that dialing does not allocate.
type dialer struct {
	remote   unix.Sockaddr
	family   int
	sources  []unix.Sockaddr
	next     int
	nodelay  bool
	linger   bool
	lingerV  unix.Linger
	addrPort netip.AddrPort
}

func newDialer(c *Config, t target, worker int) *dialer {
	d := &dialer{addrPort: t.addr, nodelay: c.Pipeline > 1 || c.RequestsPerConn != 1, linger: c.CloseWithReset}
	d.remote, d.family = sockaddr(t.addr)
	sources := c.Sources
	if sources == nil && t.addr.Addr().Is4() && t.addr.Addr().IsLoopback() && c.RequestsPerConn != 0 {
		for x := 1; x < 255; x++ {
			sources = append(sources, netip.AddrFrom4([4]byte{127, 0, 0, byte(x)}))
		}
	}
	for _, s := range sources {
		sa, fam := sockaddr(netip.AddrPortFrom(s, 0))
		if fam == d.family {
			d.sources = append(d.sources, sa)
		}
	}
	// Workers start at different source addresses so they spread evenly.
	if len(d.sources) > 0 {
		d.next = worker * 37 % len(d.sources)
	}
	return d
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
	fd, err := unix.Socket(d.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := d.setup(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func (d *dialer) setup(fd int) error {
	if d.nodelay {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
			return os.NewSyscallError("setsockopt", err)
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
		unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	}
	src := d.sources[d.next]
	if d.next++; d.next == len(d.sources) {
		d.next = 0
	}
	if err := unix.Bind(fd, src); err != nil {
		return os.NewSyscallError("bind", err)
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
