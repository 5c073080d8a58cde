package uring

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bufEntry is struct io_uring_buf, one slot of a provided-buffer ring.
type bufEntry struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16 // in slot 0: the ring's tail
}

// BufRing is a provided-buffer ring (IORING_REGISTER_PBUF_RING, Linux
// 5.19): N buffers of one size that the kernel picks from when a recv with
// PrepRecvSelect gets data, and that the loop hands back with Recycle once
// it is done with their bytes. Both the ring and the buffers are anonymous
// mappings, which the garbage collector neither moves nor frees.
type BufRing struct {
	r       *Ring
	group   uint16
	size    uint32
	mask    uint16
	tail    uint16 // the process's copy of the published tail
	ring    []byte // the slots, shared with the kernel
	slots   []bufEntry
	tailW   *uint32 // slot 0's bid and the tail, one word
	bufs    []byte  // entries*size bytes of buffers
	entries uint32
}

// NewBufRing registers a ring of entries buffers (a power of two, at most
// 32768) of size bytes each as buffer group group, every buffer in it.
func (r *Ring) NewBufRing(group uint16, entries, size uint32) (*BufRing, error) {
	if entries == 0 || entries > maxBufRingEntries || entries&(entries-1) != 0 {
		return nil, fmt.Errorf("uring: buffer ring %d: %d entries, want a power of two up to %d", group, entries, maxBufRingEntries)
	}
	if size == 0 {
		return nil, fmt.Errorf("uring: buffer ring %d: buffers of 0 bytes", group)
	}
	b := &BufRing{r: r, group: group, size: size, mask: uint16(entries - 1), entries: entries}
	var err error
	if b.ring, err = mmapAnon(int(entries * bufRingEntrySize)); err != nil {
		return nil, fmt.Errorf("uring: buffer ring %d: %w", group, err)
	}
	if b.bufs, err = mmapAnon(int(entries) * int(size)); err != nil {
		unix.Munmap(b.ring)
		return nil, fmt.Errorf("uring: buffer ring %d: %w", group, err)
	}
	b.slots = sliceAt[bufEntry](b.ring, 0, entries)
	b.tailW = u32At(b.ring, bufRingTailOff)
	reg := bufReg{ringAddr: bytesAddr(b.ring), ringEntries: entries, bgid: group}
	if e := sysRegister(r.fd, registerPbufRing, unsafe.Pointer(&reg), 1); e != 0 {
		b.unmap()
		hint := ""
		if e == unix.EINVAL {
			hint = " (a provided-buffer ring needs Linux 5.19)"
		}
		return nil, fmt.Errorf("uring: buffer ring %d: %w%s", group, os.NewSyscallError("io_uring_register", e), hint)
	}
	for bid := range entries {
		b.Add(uint16(bid))
	}
	b.Advance()
	r.bufRings = append(r.bufRings, b)
	return b, nil
}

// mmapAnon maps n bytes of private anonymous memory.
func mmapAnon(n int) ([]byte, error) {
	m, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, os.NewSyscallError("mmap", err)
	}
	return m, nil
}

// Group returns the buffer group id, for PrepRecvSelect.
func (b *BufRing) Group() uint16 { return b.group }

// Size returns the size of each buffer.
func (b *BufRing) Size() uint32 { return b.size }

// Buf returns the first n bytes of buffer bid (n is the completion's Res).
// They stay valid until the buffer is recycled.
func (b *BufRing) Buf(bid uint16, n int) []byte {
	off := int(bid) * int(b.size)
	return b.bufs[off : off+n : off+int(b.size)]
}

// Add puts buffer bid at the ring's tail without publishing it: a loop
// adds the buffers it is done with, then publishes them with one Advance.
// A buffer must be added once per use: one the kernel has not handed out
// would then be in the ring twice, and two recvs would share it.
func (b *BufRing) Add(bid uint16) {
	s := &b.slots[b.tail&b.mask]
	s.addr = bytesAddr(b.bufs) + uint64(bid)*uint64(b.size)
	s.len = b.size
	s.bid = bid
	b.tail++
}

// Advance publishes the buffers added since the last Advance.
func (b *BufRing) Advance() {
	// Release: the slots were written with plain stores; the kernel loads
	// the tail with acquire, then reads the slots below it, so they must
	// be visible before the tail is. The tail is 16 bits wide and
	// sync/atomic stores 32: the word also holds slot 0's bid, which only
	// this process writes, so the store writes back its current value.
	atomic.StoreUint32(b.tailW, tailWord(b.slots[0].bid, b.tail))
}

// Recycle hands buffer bid back to the kernel: Add then Advance.
func (b *BufRing) Recycle(bid uint16) {
	b.Add(bid)
	b.Advance()
}

// Close unregisters the ring and unmaps its memory; Close again does
// nothing. Ring.Close closes the buffer rings it still has.
func (b *BufRing) Close() error {
	rings := b.r.bufRings
	for i, o := range rings {
		if o == b {
			b.r.bufRings = append(rings[:i], rings[i+1:]...)
			return b.close()
		}
	}
	return nil
}

// close unregisters and unmaps.
func (b *BufRing) close() error {
	reg := bufReg{bgid: b.group}
	var err error
	if e := sysRegister(b.r.fd, unregisterPbufRing, unsafe.Pointer(&reg), 1); e != 0 {
		err = fmt.Errorf("uring: close buffer ring %d: %w", b.group, os.NewSyscallError("io_uring_register", e))
	}
	return errors.Join(err, b.unmap())
}

// unmap releases the ring's and the buffers' memory.
func (b *BufRing) unmap() error {
	var errs []error
	for _, m := range []*[]byte{&b.ring, &b.bufs} {
		if *m != nil {
			if err := unix.Munmap(*m); err != nil {
				errs = append(errs, fmt.Errorf("uring: close buffer ring %d: %w", b.group, os.NewSyscallError("munmap", err)))
			}
			*m = nil
		}
	}
	b.slots, b.tailW = nil, nil
	return errors.Join(errs...)
}
