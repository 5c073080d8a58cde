package evloop

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sock_diag (NETLINK_SOCK_DIAG, inet_diag) tells how far both ends of a
// TCP connection have got: unacknowledged bytes on the server's end, and,
// when the client is a socket of this network namespace (loopback), the
// bytes it has received but not yet read. Data sent with sendfile stays
// a reference to page-cache pages in both queues (loopback hands the
// sender's buffers to the receiver), so both count.

// Constants of linux/inet_diag.h and linux/tcp.h that x/sys lacks.
const (
	inetDiagReqBytecode = 1  // INET_DIAG_REQ_BYTECODE
	inetDiagInfo        = 2  // INET_DIAG_INFO: struct tcp_info
	inetDiagBCSEq       = 11 // INET_DIAG_BC_S_EQ: source port equals
	inetDiagBCDEq       = 12 // INET_DIAG_BC_D_EQ: destination port equals

	sizeofInetDiagReqV2 = 56
	sizeofInetDiagMsg   = 72

	tcpEstablished = 1
	tcpFinWait1    = 4
	tcpFinWait2    = 5
	tcpCloseWait   = 8
	tcpLastAck     = 9
	tcpClosing     = 11
)

// dataStates are the TCP states whose queues may hold data. TIME_WAIT
// sockets hold none; closed ones are not in the tables.
const dataStates = 1<<tcpEstablished | 1<<tcpFinWait1 | 1<<tcpFinWait2 |
	1<<tcpCloseWait | 1<<tcpLastAck | 1<<tcpClosing

// sockKey names a connection from the server's side: local is the
// server's address and port. Addresses are IPv6, IPv4 ones mapped.
type sockKey struct {
	local, remote         [16]byte
	localPort, remotePort uint16
}

// sockStat is what sock_diag reports of one end of a connection.
type sockStat struct {
	state  uint8
	rqueue uint32 // received, not yet read (a received FIN counts one)
	wqueue uint32 // written, not yet acknowledged (a sent FIN counts one)
	// acked and received are tcp_info's byte counters (bytes_acked,
	// bytes_received: data, and one for a FIN); valid when info is set.
	acked, received uint64
	info            bool
	inode           uint32   // the socket's inode; 0 for an orphan (closed by its process)
	family          uint8    // the socket's own address family and inet_diag_sockid,
	id              [48]byte // to name it to SOCK_DESTROY
}

// finSent reports whether s's end has queued its FIN.
func (s sockStat) finSent() bool {
	switch s.state {
	case tcpFinWait1, tcpFinWait2, tcpClosing, tcpLastAck:
		return true
	}
	return false
}

// finReceived reports whether s's end has received the other's FIN.
func (s sockStat) finReceived() bool {
	switch s.state {
	case tcpCloseWait, tcpLastAck, tcpClosing:
		return true
	}
	return false
}

// unread is the data s's end has received and not read.
func (s sockStat) unread() uint32 {
	if s.rqueue > 0 && s.finReceived() {
		return s.rqueue - 1 // the FIN, read last
	}
	return s.rqueue
}

// sockDiag is a NETLINK_SOCK_DIAG socket.
type sockDiag struct {
	fd  int
	seq uint32
	buf []byte
}

func openSockDiag() (*sockDiag, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("evloop: sock_diag: %w", os.NewSyscallError("socket", err))
	}
	return &sockDiag{fd: fd, buf: make([]byte, 64<<10)}, nil
}

func (d *sockDiag) close() { unix.Close(d.fd) }

// dump calls fn for every TCP socket of family in a data state whose
// source port (remote false: the server's end) or destination port
// (remote true: a client's end) is port, keyed from the server's side.
func (d *sockDiag) dump(family uint8, port uint16, remote bool, fn func(sockKey, sockStat)) error {
	d.seq++
	return d.exchange(d.request(family, port, remote), remote, fn)
}

// exchange sends a request and reads the answers until its end.
func (d *sockDiag) exchange(req []byte, remote bool, fn func(sockKey, sockStat)) error {
	if err := unix.Sendto(d.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("evloop: sock_diag: %w", os.NewSyscallError("sendto", err))
	}
	for {
		n, _, err := unix.Recvfrom(d.fd, d.buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("evloop: sock_diag: %w", os.NewSyscallError("recvfrom", err))
		}
		if done, err := d.parse(d.buf[:n], remote, fn); err != nil || done {
			return err
		}
	}
}

// destroy aborts the socket s names (SOCK_DESTROY: needs CAP_NET_ADMIN):
// it sends a reset and frees its send queue, as a close with a zero
// linger time would, for a socket its process has already closed.
func (d *sockDiag) destroy(s sockStat) error {
	d.seq++
	total := unix.SizeofNlMsghdr + sizeofInetDiagReqV2
	b := make([]byte, total)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(total))
	ne.PutUint16(b[4:], unix.SOCK_DESTROY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	ne.PutUint32(b[8:], d.seq)
	r := b[unix.SizeofNlMsghdr:]
	r[0], r[1] = s.family, unix.IPPROTO_TCP
	ne.PutUint32(r[4:], ^uint32(0))
	copy(r[8:], s.id[:])
	return d.exchange(b, false, nil)
}

// request builds a dump request with a bytecode filter on one port.
func (d *sockDiag) request(family uint8, port uint16, remote bool) []byte {
	const bcLen = 8 // one comparison: an op, then the port in the next op's "no"
	const attrLen = unix.SizeofRtAttr + bcLen
	total := unix.SizeofNlMsghdr + sizeofInetDiagReqV2 + attrLen
	b := make([]byte, total)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(total))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[8:], d.seq)
	r := b[unix.SizeofNlMsghdr:]
	r[0], r[1], r[2] = family, unix.IPPROTO_TCP, 1<<(inetDiagInfo-1)
	ne.PutUint32(r[4:], dataStates)
	a := r[sizeofInetDiagReqV2:]
	ne.PutUint16(a[0:], attrLen)
	ne.PutUint16(a[2:], inetDiagReqBytecode)
	op := a[unix.SizeofRtAttr:]
	op[0] = inetDiagBCSEq
	if remote {
		op[0] = inetDiagBCDEq
	}
	op[1] = bcLen                 // yes: past the end, a match
	ne.PutUint16(op[2:], bcLen+4) // no: 4 bytes beyond the end, a miss
	ne.PutUint16(op[6:], port)    // the port, in host order
	return b
}

// parse handles one datagram of a dump; it reports true at its end.
func (d *sockDiag) parse(b []byte, remote bool, fn func(sockKey, sockStat)) (bool, error) {
	ne := binary.NativeEndian
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(ne.Uint32(b[0:]))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return false, fmt.Errorf("evloop: sock_diag: bad message length %d", l)
		}
		typ, seq := ne.Uint16(b[4:]), ne.Uint32(b[8:])
		msg := b[unix.SizeofNlMsghdr:l]
		b = b[min(len(b), (l+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1)):]
		if seq != d.seq {
			continue // the tail of an earlier, abandoned dump
		}
		switch typ {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(msg) >= 4 {
				if errno := -int32(ne.Uint32(msg)); errno != 0 {
					return true, fmt.Errorf("evloop: sock_diag: %w", unix.Errno(errno))
				}
			}
			return true, nil
		case unix.SOCK_DIAG_BY_FAMILY:
			if len(msg) >= sizeofInetDiagMsg && fn != nil {
				k, s := parseInetDiag(msg, remote)
				fn(k, s)
			}
		}
	}
	return false, nil
}

// parseInetDiag reads one struct inet_diag_msg and its tcp_info.
func parseInetDiag(m []byte, remote bool) (sockKey, sockStat) {
	ne := binary.NativeEndian
	family := m[0]
	s := sockStat{state: m[1], rqueue: ne.Uint32(m[56:]), wqueue: ne.Uint32(m[60:]),
		inode: ne.Uint32(m[68:]), family: family}
	copy(s.id[:], m[4:52])
	src, dst := diagAddr(family, m[8:24]), diagAddr(family, m[24:40])
	sport, dport := binary.BigEndian.Uint16(m[4:]), binary.BigEndian.Uint16(m[6:])
	k := sockKey{local: src, remote: dst, localPort: sport, remotePort: dport}
	if remote {
		k = sockKey{local: dst, remote: src, localPort: dport, remotePort: sport}
	}
	for a := m[sizeofInetDiagMsg:]; len(a) >= unix.SizeofRtAttr; {
		l := int(ne.Uint16(a[0:]))
		if l < unix.SizeofRtAttr || l > len(a) {
			break
		}
		if ne.Uint16(a[2:]) == inetDiagInfo {
			s.acked, s.received, s.info = tcpInfoBytes(a[unix.SizeofRtAttr:l])
		}
		a = a[min(len(a), (l+unix.RTA_ALIGNTO-1)&^(unix.RTA_ALIGNTO-1)):]
	}
	return k, s
}

// tcpInfoBytes reads bytes_acked and bytes_received from a tcp_info (a
// kernel older than 4.1 has neither).
func tcpInfoBytes(b []byte) (acked, received uint64, ok bool) {
	const ackedOff = unsafe.Offsetof(unix.TCPInfo{}.Bytes_acked)
	const receivedOff = unsafe.Offsetof(unix.TCPInfo{}.Bytes_received)
	if uintptr(len(b)) < receivedOff+8 {
		return 0, 0, false
	}
	ne := binary.NativeEndian
	return ne.Uint64(b[ackedOff:]), ne.Uint64(b[receivedOff:]), true
}

// diagAddr returns an inet_diag address as IPv6, an IPv4 one mapped.
func diagAddr(family uint8, b []byte) [16]byte {
	var a [16]byte
	if family == unix.AF_INET {
		a[10], a[11] = 0xff, 0xff
		copy(a[12:], b[:4])
		return a
	}
	copy(a[:], b)
	return a
}
