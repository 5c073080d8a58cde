// Package listen opens the raw, non-blocking TCP listening sockets of the
// flashbench servers, without the Go netpoller (an event loop polls them
// with its own epoll, and re-executed children inherit them as plain
// descriptors), and accepts on them: one accept routine for every
// architecture (Acceptor; Net for the baselines' net.Listener), one
// classification of accept4's failures (Class), one bound on the
// connections open at once (Limit, --max-conns).
package listen

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultBacklog is the listen backlog used when the kernel's somaxconn
// cannot be read.
const DefaultBacklog = 4096

// TCP opens a non-blocking, close-on-exec TCP listener on addr
// ("host:port" with an IP literal or "localhost"; port 0 picks a free
// one) with SO_REUSEADDR and the largest backlog the kernel allows. It
// returns the descriptor and the bound address, with the real port.
func TCP(addr string) (fd int, bound string, err error) {
	ap, err := parse(addr)
	if err != nil {
		return -1, "", err
	}
	family := unix.AF_INET
	if ap.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, "", fmt.Errorf("listen %s: %w", addr, os.NewSyscallError("socket", err))
	}
	if err = bindListen(fd, ap); err != nil {
		unix.Close(fd)
		return -1, "", fmt.Errorf("listen %s: %w", addr, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, "", fmt.Errorf("listen %s: %w", addr, os.NewSyscallError("getsockname", err))
	}
	return fd, sockaddrString(sa), nil
}

// DeferSeconds is how long DeferAccept holds back a connection that has
// sent nothing: the kernel counts it in SYN-ACK retransmissions, the first
// a second after the handshake.
const DeferSeconds = 1

// DeferAccept makes the listener fd hand out a connection only once its
// first bytes have arrived (TCP_DEFER_ACCEPT), or after about seconds if
// none do. An HTTP client speaks first, so the request is there when the
// connection is accepted: the first read answers it, where a listener that
// hands out bare connections makes the server read in vain, wait for the
// socket (epoll_ctl, epoll_wait) and read again. Children inherit it with
// the listener.
func DeferAccept(fd, seconds int) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, seconds); err != nil {
		return fmt.Errorf("listen: defer accept: %w", os.NewSyscallError("setsockopt", err))
	}
	return nil
}

// parse resolves addr without any name lookup beyond "localhost".
func parse(addr string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen %q: %w", addr, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen %q: bad port %q", addr, port)
	}
	switch host {
	case "localhost":
		host = "127.0.0.1"
	case "":
		host = "0.0.0.0"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen %q: host must be an IP address or localhost", addr)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), nil
}

// bindListen sets SO_REUSEADDR, binds and listens.
func bindListen(fd int, ap netip.AddrPort) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	var sa unix.Sockaddr
	if ap.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	if err := unix.Listen(fd, Backlog()); err != nil {
		return os.NewSyscallError("listen", err)
	}
	return nil
}

// Backlog returns net.core.somaxconn, the largest backlog listen accepts,
// or DefaultBacklog if it cannot be read.
func Backlog() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return DefaultBacklog
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return DefaultBacklog
	}
	return n
}

// sockaddrString formats a bound address as host:port.
func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return fmt.Sprint(sa)
}
