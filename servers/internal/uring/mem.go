package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The few helpers that turn mapped memory into typed views and Go memory
// into kernel addresses. No other file does pointer arithmetic.

// u32At returns the 32-bit word at off in mem, a mapping shared with the
// kernel: callers load and store it with sync/atomic only.
func u32At(mem []byte, off uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&mem[off]))
}

// sliceAt returns n values of T laid out at off in mem.
func sliceAt[T any](mem []byte, off, n uint32) []T {
	var zero T
	_ = mem[uintptr(off)+uintptr(n)*unsafe.Sizeof(zero)-1] // bounds: the view stays inside mem
	return unsafe.Slice((*T)(unsafe.Pointer(&mem[off])), n)
}

// escapeSink is never written (on stays false); the assignment in addrOf
// makes escape analysis treat every address handed to the kernel as
// leaking, so the compiler puts its object on the heap, where the garbage
// collector never moves it. A goroutine's stack is moved when it grows,
// and the kernel would then read or write the old place.
var escapeSink struct {
	on bool
	p  unsafe.Pointer
}

// addrOf returns p as an address for an SQE.
func addrOf(p unsafe.Pointer) uint64 {
	if escapeSink.on {
		escapeSink.p = p
	}
	return uint64(uintptr(p))
}

// bytesAddr returns the address of b's first byte (0 for an empty b).
func bytesAddr(b []byte) uint64 {
	return addrOf(unsafe.Pointer(unsafe.SliceData(b)))
}

// tailWord returns the 32-bit word whose two halves, in memory order, are
// lo then hi, whatever the machine's byte order: the provided-buffer
// ring's tail is a 16-bit field that sync/atomic cannot store alone.
func tailWord(lo, hi uint16) uint32 {
	var w uint32
	h := (*[2]uint16)(unsafe.Pointer(&w))
	h[0], h[1] = lo, hi
	return w
}

// timespecAddr returns the address of ts for an SQE or an enter argument.
func timespecAddr(ts *unix.Timespec) uint64 {
	return addrOf(unsafe.Pointer(ts))
}
