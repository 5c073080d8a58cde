package app

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Pool is the program's side of the shared-memory pool the server gave
// it: the memfd mapped read-write, and which pages are free. Allocations
// are whole pages, so that buffers never share a page. A page is free
// until it is allocated, and again after the server's release frame for
// it: between the two the program never writes it, which is what makes a
// sent buffer immutable.
//
// Allocation is first fit from the start of the pool: the server
// releases a buffer as soon as it has written it to the socket, so the
// next response usually lands on the pages just released, already
// mapped and still in the CPU caches. A buffer the server may have sent
// by reference (a cached body, cgiproto.FlagZeroCopy) is detached before
// its pages are freed, so that a later allocation gets fresh pages and
// the kernel keeps the old ones for as long as a socket references them.
type Pool struct {
	fd   int
	mem  []byte
	used []bool // by page
	free int    // free pages
}

// PageSize is the allocation unit of a Pool.
var PageSize = os.Getpagesize()

// MapPool maps size bytes of the shared-memory descriptor fd.
func MapPool(fd, size int) (*Pool, error) {
	if size <= 0 || size%PageSize != 0 {
		return nil, fmt.Errorf("app: pool size %d is not a positive multiple of the page size", size)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("app: map pool: %w", os.NewSyscallError("mmap", err))
	}
	n := size / PageSize
	return &Pool{fd: fd, mem: mem, used: make([]bool, n), free: n}, nil
}

// Size is the pool size in bytes.
func (p *Pool) Size() int { return len(p.mem) }

// Pages returns how many pages n bytes take.
func Pages(n int) int { return (n + PageSize - 1) / PageSize }

// Alloc finds n contiguous bytes (rounded up to pages), the lowest free
// run, and returns their offset, or false when no free run is long
// enough right now.
func (p *Pool) Alloc(n int) (int, bool) {
	want := Pages(max(n, 1))
	if want > p.free {
		return 0, false
	}
	run := 0
	for i, used := range p.used {
		if used {
			run = 0
			continue
		}
		if run++; run == want {
			first := i - want + 1
			for j := first; j <= i; j++ {
				p.used[j] = true
			}
			p.free -= want
			return first * PageSize, true
		}
	}
	return 0, false
}

// Free returns the pages of a range allocated by Alloc. A range outside
// the pool, or pages already free, are a broken release: it reports
// false and changes nothing.
func (p *Pool) Free(off, n int) bool {
	if off < 0 || n <= 0 || off%PageSize != 0 || off+n > len(p.mem) {
		return false
	}
	first, cnt := off/PageSize, Pages(n)
	for j := first; j < first+cnt; j++ {
		if !p.used[j] {
			return false
		}
	}
	for j := first; j < first+cnt; j++ {
		p.used[j] = false
	}
	p.free += cnt
	return true
}

// Bytes returns the n bytes at off.
func (p *Pool) Bytes(off, n int) []byte { return p.mem[off : off+n : off+n] }

// Detach takes the pages of the allocated range at off out of the pool
// (a hole punched in the memfd): every mapping of the range loses them,
// while a socket or pipe that references them keeps them, unchanged,
// until it lets go. The range reads as zeros afterwards, and the next
// write to it faults in fresh pages. Detach a range before freeing it
// whenever it may have been sent by reference.
func (p *Pool) Detach(off, n int) error {
	if off < 0 || n <= 0 || off%PageSize != 0 || off+n > len(p.mem) {
		return fmt.Errorf("app: detach of %d bytes at %d: outside the pool", n, off)
	}
	err := unix.Fallocate(p.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(off), int64(Pages(n)*PageSize))
	if err != nil {
		return fmt.Errorf("app: detach of %d bytes at %d: %w", n, off, os.NewSyscallError("fallocate", err))
	}
	return nil
}
