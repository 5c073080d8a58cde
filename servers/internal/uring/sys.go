package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's ABI, from include/uapi/linux/io_uring.h: only what the
// package uses.

// Offsets of the three mappings of a ring's file descriptor.
const (
	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

// Setup flags the package sets itself.
const setupCQSize = 1 << 3

// Flags of the SQ ring's flags word, written by the kernel.
const (
	sqCQOverflow = 1 << 1 // completions wait in the kernel's overflow list
	sqTaskrun    = 1 << 2 // completions wait in task work (SetupTaskrunFlag)
)

// io_uring_enter flags.
const (
	enterGetEvents = 1 << 0
	enterExtArg    = 1 << 3
)

// io_uring_register opcodes and the sizes of what they take.
const (
	registerProbe       = 8
	registerEnableRings = 12
	registerPbufRing    = 22
	unregisterPbufRing  = 23
	probeOpSupported    = 1 << 0
	probeOps            = 256
)

// Sizes of the entries of the queues and of a provided-buffer ring.
const (
	sqeSize           = 64
	cqeSize           = 16
	bufRingEntrySize  = 16
	maxBufRingEntries = 1 << 15
	// bufRingTailOff is where bufs[0].bid and the ring's 16-bit tail
	// share one 32-bit word (the tail overlays bufs[0].resv).
	bufRingTailOff = 12
)

// sqringOffsets is struct io_sqring_offsets.
type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

// cqringOffsets is struct io_cqring_offsets.
type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// params is struct io_uring_params.
type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

// getEventsArg is struct io_uring_getevents_arg, the argument of an enter
// with enterExtArg.
type getEventsArg struct {
	sigmask     uint64
	sigmaskSz   uint32
	minWaitUsec uint32
	ts          uint64
}

// bufReg is struct io_uring_buf_reg, the argument of registerPbufRing.
type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	minLeft     uint32
	resv        [5]uint32
}

// probeOp is struct io_uring_probe_op.
type probeOp struct {
	op    uint8
	resv  uint8
	flags uint16
	resv2 uint32
}

// probe is struct io_uring_probe with room for every opcode.
type probe struct {
	lastOp uint8
	opsLen uint8
	resv   uint16
	resv2  [3]uint32
	ops    [probeOps]probeOp
}

// The layouts above must match the kernel's byte for byte.
var (
	_ [0]struct{} = [unsafe.Sizeof(params{}) - 120]struct{}{}
	_ [0]struct{} = [unsafe.Sizeof(getEventsArg{}) - 24]struct{}{}
	_ [0]struct{} = [unsafe.Sizeof(bufReg{}) - 40]struct{}{}
	_ [0]struct{} = [unsafe.Sizeof(probe{}) - 16 - 8*probeOps]struct{}{}
	_ [0]struct{} = [unsafe.Sizeof(SQE{}) - sqeSize]struct{}{}
	_ [0]struct{} = [unsafe.Sizeof(CQE{}) - cqeSize]struct{}{}
)

// sysSetup is io_uring_setup(2).
func sysSetup(entries uint32, p *params) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	return int(r), e
}

// sysEnter is io_uring_enter(2) without an argument. It goes through
// RawSyscall even when it waits, as servers/internal/evloop's epoll wait
// does, so that a loop keeps its P while it waits: through the ordinary
// wrapper the scheduler's monitor takes the P away from any system call
// that lasts over 20 µs and keeps waking up to look. A wait that holds
// the P is still preempted: after 10 ms the runtime signals the thread,
// the call returns EINTR, and enter yields before it retries.
func sysEnter(fd int, toSubmit, minComplete, flags uint32) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), 0, 0)
	return int(r), e
}

// sysEnterArg is io_uring_enter(2) with enterExtArg and arg, which must be
// heap memory that holds the address of a heap timespec: the kernel reads
// both during the call.
func sysEnterArg(fd int, toSubmit, minComplete, flags uint32, arg *getEventsArg) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags|enterExtArg), uintptr(unsafe.Pointer(arg)), unsafe.Sizeof(*arg))
	return int(r), e
}

// sysRegister is io_uring_register(2); arg is read or written during the
// call only.
func sysRegister(fd int, opcode uint32, arg unsafe.Pointer, nr uint32) unix.Errno {
	_, _, e := unix.RawSyscall6(unix.SYS_IO_URING_REGISTER, uintptr(fd), uintptr(opcode), uintptr(arg), uintptr(nr), 0, 0)
	return e
}
