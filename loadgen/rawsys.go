package loadgen

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The worker's calls on its non-blocking sockets go straight to the kernel,
// without the scheduler's system call bookkeeping (entersyscall and
// exitsyscall): none of them can block, so there is nothing to hand the
// worker's P over for, and skipping it saves its cost on every call and
// keeps the runtime's monitor from retaking the P mid-call. They return
// the errno (0 for success) instead of an error, which never allocates.

var zero uintptr

func bufPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return unsafe.Pointer(&zero)
	}
	return unsafe.Pointer(&b[0])
}

func rawRead(fd int, b []byte) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(bufPtr(b)), uintptr(len(b)))
	return int(n), e
}

func rawWrite(fd int, b []byte) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(bufPtr(b)), uintptr(len(b)))
	return int(n), e
}

func rawClose(fd int) unix.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	return e
}

// rawSocket returns a new non-blocking, close-on-exec TCP socket.
func rawSocket(family int) (int, unix.Errno) {
	fd, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	return int(fd), e
}

func rawSetsockoptInt(fd, level, opt, value int) unix.Errno {
	v := int32(value)
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v)), 4, 0)
	return e
}

// rawEpollCtl registers or changes fd in the epoll set epfd.
func rawEpollCtl(epfd, op, fd int, ev *unix.EpollEvent) unix.Errno {
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd),
		uintptr(unsafe.Pointer(ev)), 0, 0)
	return e
}

// rawEpollPoll collects ready events without waiting; waits go through
// unix.EpollWait, which lets the runtime use the P meanwhile.
func rawEpollPoll(epfd int, evs []unix.EpollEvent) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&evs[0])),
		uintptr(len(evs)), 0, 0, 0)
	return int(n), e
}

// rawAddr is a socket address in the kernel's layout, made once so that
// connect and bind neither convert nor allocate.
type rawAddr struct {
	buf [unix.SizeofSockaddrInet6]byte
	len uintptr
}

func newRawAddr(sa unix.Sockaddr) rawAddr {
	var ra rawAddr
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(&ra.buf[0]))
		p.Family = unix.AF_INET
		p.Port = htons(a.Port)
		p.Addr = a.Addr
		ra.len = unix.SizeofSockaddrInet4
	case *unix.SockaddrInet6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(&ra.buf[0]))
		p.Family = unix.AF_INET6
		p.Port = htons(a.Port)
		p.Addr = a.Addr
		p.Scope_id = a.ZoneId
		ra.len = unix.SizeofSockaddrInet6
	}
	return ra
}

// htons puts a port in network byte order, as the sockaddr's Port field
// holds it (the field is read in the machine's order).
func htons(port int) uint16 {
	b := [2]byte{byte(port >> 8), byte(port)}
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

func rawConnect(fd int, a *rawAddr) unix.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&a.buf[0])), a.len)
	return e
}

func rawBind(fd int, a *rawAddr) unix.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&a.buf[0])), a.len)
	return e
}
