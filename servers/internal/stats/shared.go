package stats

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sharedSize is the length of the shared counters: two uint64.
const sharedSize = 16

// Shared are accept counters in memory that the processes of a server's
// tree share: a prefork master's workers accept its connections, and the
// master's stats file must count them. The master makes them (NewShared)
// and hands File down to each worker, which maps it (MapShared) and counts
// there; the master's Counters add them to every Snapshot (AddShared).
// The mapping lasts as long as the process: a snapshot may be taken at
// any time.
type Shared struct {
	// Connections counts accepted connections.
	Connections *atomic.Uint64
	// AcceptErrors counts failed accepts.
	AcceptErrors *atomic.Uint64
	file         *os.File // the master's memfd; nil in a worker
}

// NewShared returns zeroed counters in a fresh memfd.
func NewShared() (*Shared, error) {
	fd, err := unix.MemfdCreate("flashbench-stats", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("stats: shared counters: %w", os.NewSyscallError("memfd_create", err))
	}
	if err := unix.Ftruncate(fd, sharedSize); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stats: shared counters: %w", os.NewSyscallError("ftruncate", err))
	}
	s, err := MapShared(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	s.file = os.NewFile(uintptr(fd), "flashbench-stats")
	return s, nil
}

// MapShared maps the counters of the memfd fd that NewShared made (in a
// worker, the descriptor it inherited). The caller keeps ownership of fd.
func MapShared(fd int) (*Shared, error) {
	mem, err := unix.Mmap(fd, 0, sharedSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("stats: shared counters: %w", os.NewSyscallError("mmap", err))
	}
	// A mapping is page-aligned: both words are aligned for atomics.
	return &Shared{
		Connections:  (*atomic.Uint64)(unsafe.Pointer(&mem[0])),
		AcceptErrors: (*atomic.Uint64)(unsafe.Pointer(&mem[8])),
	}, nil
}

// File returns the memfd to hand down to a worker (exec.Cmd.ExtraFiles);
// nil for counters a worker mapped.
func (s *Shared) File() *os.File { return s.file }

// AddShared makes every Snapshot add the counts of sh to its own
// connections and failed accepts.
func (c *Counters) AddShared(sh *Shared) { c.shared.Store(sh) }
