// Package mincore wraps the mincore(2) system call, which
// golang.org/x/sys/unix does not offer on Linux. The file set tools and the
// servers both ask the kernel which pages of a mapping are in memory.
package mincore

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Pages reports in vec, one byte per page of the mapping b, whether the page
// is resident (bit 0 set). vec must hold at least one byte per page of b.
func Pages(b, vec []byte) error {
	if len(b) == 0 {
		return nil
	}
	pages := (len(b) + os.Getpagesize() - 1) / os.Getpagesize()
	if len(vec) < pages {
		return os.NewSyscallError("mincore", unix.EINVAL)
	}
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 {
		return os.NewSyscallError("mincore", e)
	}
	return nil
}
