package cgi

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The event loop's ends of the pipes are non-blocking, so their reads and
// writes never wait: they go through RawSyscall, like the loop's socket
// calls, so that the scheduler never hands the loop's P to another
// thread in the middle of one.

func rawRead(fd int, b []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), e
}

func rawWrite(fd int, b []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), e
}
