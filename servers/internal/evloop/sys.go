package evloop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The calls on non-blocking sockets never wait, so they go through
// RawSyscall: the ordinary wrapper tells the scheduler the thread may
// block, and a loopback write that takes a few tens of microseconds then
// makes the runtime hand the loop's P to another thread and take it back,
// futex wake-ups that compete with the loop for its core. epoll_wait does
// too, blocking or not (see wait).

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

// wait returns the ready events, waiting until the next timer at most.
// It goes through RawSyscall even when it blocks, so the loop keeps its P
// all along. Through the ordinary wrapper the scheduler's monitor sees the
// P in a system call whenever the wait lasts over 20 µs (and under a CPU
// quota a throttled wait lasts milliseconds), takes the P away, and keeps
// waking up every 20 µs to look: with the loop's sockets and the clients'
// on one machine, that monitor took a tenth of the CPU of a loop that
// answers from memory, and the futex hand-offs more. Holding the P costs
// what the runtime does for any goroutine that runs long: after 10 ms the
// monitor sends the thread its preemption signal, the wait returns EINTR
// and the goroutine yields at its next call, so the runtime's own
// goroutines (signals, leases, the garbage collector's stop) wait 10 ms at
// most while the loop is idle.
func (l *Loop) wait() (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), uintptr(l.waitMillis()), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
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
