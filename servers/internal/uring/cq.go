package uring

import (
	"sync/atomic"
	"syscall"
)

// CQE flags.
const (
	// CQEFBuffer: the operation used a provided buffer, whose id is in
	// the upper 16 bits of Flags (CQE.Buffer).
	CQEFBuffer uint32 = 1 << 0
	// CQEFMore: the SQE stays armed and will complete again (multishot
	// accept, recv and poll; send_zc before its notification).
	CQEFMore uint32 = 1 << 1
	// CQEFSockNonempty: a recv left data in the socket.
	CQEFSockNonempty uint32 = 1 << 2
	// CQEFNotif: send_zc's notification that the kernel no longer
	// references the sent buffer.
	CQEFNotif uint32 = 1 << 3
	// cqeBufferShift is where the buffer id sits in Flags.
	cqeBufferShift = 16
)

// NotifZCCopied is set in a notification's Res when the send_zc asked for
// SendZCReportUsage and the kernel copied the data after all (loopback
// does).
const NotifZCCopied = 1 << 31

// CQE is one completion, as the kernel lays it out: the user data of its
// SQE, the result (a count, a new fd, or a negated errno) and flags.
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// More reports whether the SQE will complete again (CQEFMore).
func (c CQE) More() bool { return c.Flags&CQEFMore != 0 }

// Notif reports whether this is send_zc's notification (CQEFNotif).
func (c CQE) Notif() bool { return c.Flags&CQEFNotif != 0 }

// Buffer returns the id of the provided buffer the operation filled, and
// whether it used one.
func (c CQE) Buffer() (uint16, bool) {
	return uint16(c.Flags >> cqeBufferShift), c.Flags&CQEFBuffer != 0
}

// Err returns the error of a negative Res, nil otherwise; it does not
// allocate.
func (c CQE) Err() error {
	if c.Res < 0 {
		return syscall.Errno(-c.Res)
	}
	return nil
}

// compQueue is the completion side. The kernel owns ktail, the process
// owns khead.
type compQueue struct {
	khead    *uint32 // advanced by the process once it has read CQEs
	ktail    *uint32 // advanced by the kernel to publish CQEs
	overflow *uint32 // completions the kernel had to drop
	mask     uint32
	entries  uint32
	cqes     []CQE
	poison   bool // tests: overwrite reaped CQEs before releasing them
}

// init points the queue at the mapped ring.
func (q *compQueue) init(ring []byte, off *cqringOffsets) {
	q.khead = u32At(ring, off.head)
	q.ktail = u32At(ring, off.tail)
	q.overflow = u32At(ring, off.overflow)
	q.mask = *u32At(ring, off.ringMask)
	q.entries = *u32At(ring, off.ringEntries)
	q.cqes = sliceAt[CQE](ring, off.cqes, q.entries)
}

// PeekBatch copies up to len(dst) completions into dst, oldest first,
// releases their slots to the kernel at once and returns how many. It
// never waits; when the CQ is empty but completions wait in the kernel's
// overflow list it enters the kernel (without waiting) to flush them. It
// does not allocate.
func (r *Ring) PeekBatch(dst []CQE) int {
	if r.cq.khead == nil {
		return 0
	}
	n := r.cq.peek(dst)
	if n == 0 && len(dst) > 0 && r.needsFlush() {
		// An error here leaves the completions where they are; the
		// next Submit or wait reports it.
		_, _ = r.enter(0, 0, enterGetEvents)
		n = r.cq.peek(dst)
	}
	return n
}

// peek copies the CQEs out and advances the head once.
func (q *compQueue) peek(dst []CQE) int {
	// The process is the only writer of the head: a plain read of its
	// own last store would do, an atomic one costs nothing more here.
	head := atomic.LoadUint32(q.khead)
	// Acquire: the kernel writes a CQE, then releases its tail; loading
	// the tail first orders the reads of the CQEs below after it, so
	// none is read before the kernel finished writing it.
	tail := atomic.LoadUint32(q.ktail)
	n := min(tail-head, uint32(len(dst)))
	for i := range n {
		dst[i] = q.cqes[(head+i)&q.mask]
	}
	if q.poison {
		for i := range n {
			q.cqes[(head+i)&q.mask] = poisonCQE
		}
	}
	if n > 0 {
		// Release: the CQEs were read with plain loads; once the head
		// passes them the kernel may overwrite their slots, so every
		// read must be done before the new head is visible.
		atomic.StoreUint32(q.khead, head+n)
	}
	return int(n)
}

// poisonCQE is what a test has PeekBatch leave in the slots it read: a
// later read of a slot before the kernel's tail covers it again sees it.
var poisonCQE = CQE{UserData: 0xdead_dead_dead_dead, Res: -1 << 31, Flags: 0xffff_ffff}

// CQReady returns how many completions wait in the CQ (not counting the
// kernel's overflow list).
func (r *Ring) CQReady() uint32 {
	if r.cq.khead == nil {
		return 0
	}
	return atomic.LoadUint32(r.cq.ktail) - atomic.LoadUint32(r.cq.khead)
}

// Dropped returns how many completions the kernel could not keep: with
// FeatNodrop only under memory pressure. A loop that sees it grow has
// lost completions and must treat its state as unknown.
func (r *Ring) Dropped() uint32 {
	if r.cq.overflow == nil {
		return 0
	}
	return atomic.LoadUint32(r.cq.overflow)
}
