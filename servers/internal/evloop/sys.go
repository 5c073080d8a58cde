package evloop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The calls on non-blocking sockets never wait, so they go through
// RawSyscall: the ordinary wrapper tells the scheduler the thread may
// block, and a loopback write that takes a few tens of microseconds then
// makes the runtime hand the loop's P to another thread and take it back,
// futex wake-ups that compete with the loop for its core. Only epoll_wait,
// when nothing is ready, uses the blocking wrapper (see wait).

func rawRead(fd int, b []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// rawSendfile sends count bytes of infd from *off. The loops that plan
// file ranges (flashlite) test the range's residency first, so it reads
// the page cache, as writev of a mapped body does.
func rawSendfile(outfd, infd int, off *int64, count int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDFILE, uintptr(outfd), uintptr(infd), uintptr(unsafe.Pointer(off)), uintptr(count), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func rawClose(fd int) {
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// rawInq returns the bytes waiting in the socket's receive queue.
func rawInq(fd int) int {
	var n int32
	_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCINQ, uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return 0
	}
	return int(n)
}

// wait returns the ready events: first by a poll that cannot block, made
// through RawSyscall, and only when nothing is ready by a wait until the
// next timer in the ordinary wrapper. A loaded loop finds events ready on
// almost every round; had it entered the runtime's syscall state each
// time, the scheduler's monitor would take the loop's P away from it
// whenever the call lasted over 20 µs (a CPU quota's throttling lasts
// milliseconds) and keep waking up every 20 µs to look: tens of thousands
// of nanosleep and futex calls a second on the server's core, a tenth of
// the CPU of a loop that answers from memory.
func (l *Loop) wait() (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
	switch {
	case e == 0 && r > 0:
		return int(r), nil
	case e != 0 && e != unix.EINTR:
		return 0, e
	}
	return unix.EpollWait(l.epfd, l.events[:], l.waitMillis())
}

// rawEpollAdd adds a connection to the epoll set.
func (l *Loop) rawEpollAdd(fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(l.epfd), unix.EPOLL_CTL_ADD, uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
