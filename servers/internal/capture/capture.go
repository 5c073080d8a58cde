// Package capture records the TCP segments that cross a network interface,
// through a packet socket (AF_PACKET), so that a test can check what a
// server puts on the wire: how many segments one connection takes, and
// whether the FIN rides on the last data segment. It needs CAP_NET_RAW.
package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// TCP flags.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

// Segment is one TCP segment as it crossed the interface.
type Segment struct {
	// SrcPort and DstPort are the segment's ports.
	SrcPort, DstPort int
	// Flags are the TCP flags (FIN, SYN, RST, PSH, ACK, ...).
	Flags uint8
	// Len is the payload length in bytes.
	Len int
}

// String prints the segment as tcpdump does: ports, flags, length.
func (s Segment) String() string {
	var f strings.Builder
	for _, x := range []struct {
		bit uint8
		c   byte
	}{{SYN, 'S'}, {FIN, 'F'}, {PSH, 'P'}, {RST, 'R'}, {ACK, '.'}} {
		if s.Flags&x.bit != 0 {
			f.WriteByte(x.c)
		}
	}
	return fmt.Sprintf("%d > %d [%s] length %d", s.SrcPort, s.DstPort, f.String(), s.Len)
}

// Capture is an open packet socket on one interface.
type Capture struct {
	fd int
}

// Start opens a packet socket on the interface iface ("lo" for the
// loopback) that records every IPv4 TCP segment from now on.
func Start(iface string) (*Capture, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	proto := htons(unix.ETH_P_IP)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return nil, fmt.Errorf("capture: %w", os.NewSyscallError("socket", err))
	}
	if err := setup(fd, proto, ifi.Index); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("capture: %w", err)
	}
	return &Capture{fd: fd}, nil
}

// snapLen is how much of each frame the socket keeps: the link, IP and
// TCP headers, options included. Whole frames of 64 KiB loopback
// segments would overflow the socket's buffer and lose segments.
const snapLen = 14 + 60 + 60

// setup truncates every frame to snapLen with a socket filter, leaves out
// the copies of the frames this host sends (the loopback shows each
// segment leaving and arriving), makes the buffer room for many
// connections' segments and binds the socket to the interface.
func setup(fd int, proto uint16, ifindex int) error {
	prog := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: snapLen}}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return os.NewSyscallError("setsockopt PACKET_IGNORE_OUTGOING", err)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifindex}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	return nil
}

// Close closes the packet socket.
func (c *Capture) Close() error { return unix.Close(c.fd) }

// Read returns the segments recorded so far of the connection between
// ports a and b (either way), in the order they crossed the interface. It
// stops once quiet passes with no segment at all.
func (c *Capture) Read(a, b int, quiet time.Duration) ([]Segment, error) {
	tv := unix.NsecToTimeval(quiet.Nanoseconds())
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("capture: %w", os.NewSyscallError("setsockopt", err))
	}
	var segs []Segment
	buf := make([]byte, 1<<16)
	for {
		n, from, err := unix.Recvfrom(c.fd, buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return segs, nil
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return segs, fmt.Errorf("capture: %w", os.NewSyscallError("recvfrom", err))
		}
		if s, ok := parse(buf[:n], linkHeader(from)); ok && (s.SrcPort == a && s.DstPort == b || s.SrcPort == b && s.DstPort == a) {
			segs = append(segs, s)
		}
	}
}

// linkHeader is the length of the link-layer header before the IP packet:
// an Ethernet header (the loopback and veth have one).
func linkHeader(from unix.Sockaddr) int {
	if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Hatype == unix.ARPHRD_NONE {
		return 0
	}
	return 14
}

// parse reads the TCP segment of the frame b, whose IPv4 packet starts at
// off; b may hold only the headers.
func parse(b []byte, off int) (Segment, bool) {
	if len(b) < off+20 {
		return Segment{}, false
	}
	ip := b[off:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	// The frame may be cut short (snapLen): the lengths come from the
	// headers, which must be whole.
	if ip[0]>>4 != 4 || ip[9] != unix.IPPROTO_TCP || ihl < 20 || len(ip) < ihl+20 {
		return Segment{}, false
	}
	tcp := ip[ihl:]
	doff := int(tcp[12]>>4) * 4
	if doff < 20 || total < ihl+doff {
		return Segment{}, false
	}
	return Segment{
		SrcPort: int(binary.BigEndian.Uint16(tcp[0:])),
		DstPort: int(binary.BigEndian.Uint16(tcp[2:])),
		Flags:   tcp[13],
		Len:     total - ihl - doff,
	}, true
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
