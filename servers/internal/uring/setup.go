package uring

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// SetupFlags are io_uring_setup flags a caller may ask for.
type SetupFlags uint32

// The setup flags a single-threaded server loop may want. IORING_SETUP_CQSIZE
// is set by New itself when Options.CQEntries is set.
const (
	// SetupClamp clamps too large entry counts to the kernel's maximum
	// instead of failing.
	SetupClamp SetupFlags = 1 << 4
	// SetupRDisabled makes the ring start disabled: it takes no
	// submission until Enable. With SetupSingleIssuer the issuer is then
	// the thread that calls Enable, not the one that called New, so that
	// a loop can set its ring up (and refuse to start) on one goroutine
	// and run it on another, locked to its thread (Linux 5.10).
	SetupRDisabled SetupFlags = 1 << 6
	// SetupSubmitAll keeps submitting a batch after an SQE that fails
	// early; without it the kernel stops at that SQE and the rest stay
	// queued for the next enter.
	SetupSubmitAll SetupFlags = 1 << 7
	// SetupCoopTaskrun lets completion work wait until the thread next
	// enters the kernel instead of interrupting it (Linux 5.19).
	SetupCoopTaskrun SetupFlags = 1 << 8
	// SetupTaskrunFlag makes the kernel raise a flag in the SQ ring when
	// completion work waits, so that PeekBatch knows to enter (with
	// SetupCoopTaskrun or SetupDeferTaskrun).
	SetupTaskrunFlag SetupFlags = 1 << 9
	// SetupSingleIssuer promises that one thread submits: the one that
	// created the ring (Linux 6.0). Lock the goroutine to its thread.
	SetupSingleIssuer SetupFlags = 1 << 12
	// SetupDeferTaskrun runs completion work only when the issuer enters
	// with GETEVENTS, in a batch (Linux 6.1; needs SetupSingleIssuer).
	SetupDeferTaskrun SetupFlags = 1 << 13
)

// Features are the IORING_FEAT_ bits the kernel reports at setup.
type Features uint32

// The features the package looks at.
const (
	// FeatSingleMmap: the SQ and CQ rings share one mapping (Linux 5.4).
	FeatSingleMmap Features = 1 << 0
	// FeatNodrop: the kernel keeps completions that do not fit the CQ in
	// an overflow list instead of dropping them (Linux 5.5).
	FeatNodrop Features = 1 << 1
	// FeatSubmitStable: the kernel has consumed an SQE's data when the
	// enter that submits it returns (Linux 5.5).
	FeatSubmitStable Features = 1 << 2
	// FeatFastPoll: socket operations that would block wait on an
	// internal poll instead of a worker thread (Linux 5.7).
	FeatFastPoll Features = 1 << 5
	// FeatExtArg: enter takes a timeout (SubmitAndWaitTimeout; Linux 5.11).
	FeatExtArg Features = 1 << 8
	// FeatCQESkip: SQE.SkipSuccess works (Linux 5.17).
	FeatCQESkip Features = 1 << 11
)

// Options configure New.
type Options struct {
	// Entries is the SQ size, rounded up to a power of two by the kernel:
	// the most SQEs one enter submits.
	Entries uint32
	// CQEntries is the CQ size (at least Entries, rounded up); 0 leaves
	// the kernel's default of twice Entries.
	CQEntries uint32
	// Flags are the setup flags.
	Flags SetupFlags
}

// ErrUnavailable is matched (errors.Is) by the error of New when the
// machine cannot run io_uring at all: disabled by kernel.io_uring_disabled,
// forbidden by a seccomp filter, or not built into the kernel.
var ErrUnavailable = errors.New("uring: io_uring is unavailable")

// Ring is one io_uring: a submission queue, a completion queue, the kernel
// features it reported and the operations it supports. A Ring is used by
// one goroutine, locked to its OS thread: io_uring runs completion work on
// the thread that submitted, and SetupSingleIssuer insists on it. The one
// exception: PeekBatch may run in another goroutine than the submitting
// one, since the SQ and CQ are independent queues.
type Ring struct {
	fd       int
	flags    uint32
	features Features
	sq       subQueue
	cq       compQueue
	ringMem  []byte // the SQ ring, and the CQ ring with FeatSingleMmap
	cqMem    []byte // the CQ ring without FeatSingleMmap
	sqeMem   []byte // the SQE array
	ops      [probeOps / 64]uint64
	bufRings []*BufRing
	waitTS   unix.Timespec // SubmitAndWaitTimeout's timeout, read by the kernel
	waitArg  getEventsArg  // points at waitTS
}

// New sets up a ring, maps its queues and probes the kernel's operations.
func New(o Options) (*Ring, error) {
	if o.Entries == 0 {
		return nil, errors.New("uring: new: Options.Entries is 0, want the SQ size")
	}
	var p params
	p.flags = uint32(o.Flags)
	if o.CQEntries != 0 {
		p.flags |= setupCQSize
		p.cqEntries = o.CQEntries
	}
	fd, e := sysSetup(o.Entries, &p)
	if e != 0 {
		return nil, setupError(e, disabledPath)
	}
	r := &Ring{fd: fd, flags: p.flags, features: Features(p.features)}
	if err := r.mapQueues(&p); err != nil {
		r.Close()
		return nil, err
	}
	if err := r.probe(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// disabledPath holds kernel.io_uring_disabled: 0 allows io_uring, 1 allows
// it to the members of kernel.io_uring_group, 2 forbids it.
const disabledPath = "/proc/sys/kernel/io_uring_disabled"

// setupError turns a failed io_uring_setup into one line that says why the
// machine refused, when it did, reading kernel.io_uring_disabled at path.
func setupError(e unix.Errno, path string) error {
	sys := os.NewSyscallError("io_uring_setup", e)
	switch e {
	case unix.ENOSYS:
		return fmt.Errorf("%w: the kernel has no io_uring: %w", ErrUnavailable, sys)
	case unix.EPERM:
		b, err := os.ReadFile(path)
		v := strings.TrimSpace(string(b))
		switch {
		case err != nil:
			return fmt.Errorf("%w: %w (and %w)", ErrUnavailable, sys, err)
		case v != "0":
			return fmt.Errorf("%w: disabled on this machine (kernel.io_uring_disabled = %s): %w", ErrUnavailable, v, sys)
		default:
			return fmt.Errorf("%w: kernel.io_uring_disabled = 0, so a seccomp filter (a container's?) forbids it: %w", ErrUnavailable, sys)
		}
	}
	return fmt.Errorf("uring: %w", sys)
}

// mapQueues maps the SQ ring, the CQ ring and the SQE array, and fills the
// SQ's index array with the identity, once: SQE i is always slot i.
func (r *Ring) mapQueues(p *params) error {
	sqSize := p.sqOff.array + p.sqEntries*4
	cqSize := p.cqOff.cqes + p.cqEntries*cqeSize
	if r.features&FeatSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	if r.ringMem, err = mmapRing(r.fd, offSQRing, sqSize); err != nil {
		return err
	}
	cqMem := r.ringMem
	if r.features&FeatSingleMmap == 0 {
		if r.cqMem, err = mmapRing(r.fd, offCQRing, cqSize); err != nil {
			return err
		}
		cqMem = r.cqMem
	}
	if r.sqeMem, err = mmapRing(r.fd, offSQEs, p.sqEntries*sqeSize); err != nil {
		return err
	}
	r.sq.init(r.ringMem, r.sqeMem, &p.sqOff)
	r.cq.init(cqMem, &p.cqOff)
	return nil
}

// mmapRing maps size bytes of the ring's file at off, populated so that
// the first submissions take no page faults.
func mmapRing(fd int, off int64, size uint32) ([]byte, error) {
	b, err := unix.Mmap(fd, off, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("uring: map the queues: %w", os.NewSyscallError("mmap", err))
	}
	return b, nil
}

// Close unregisters the buffer rings, unmaps the queues and closes the
// ring's file descriptor; the kernel cancels what is still in flight.
// Close again does nothing. Close the ring only after its operations
// completed or were cancelled: the buffer rings' memory goes with it.
func (r *Ring) Close() error {
	var errs []error
	for _, b := range r.bufRings {
		errs = append(errs, b.close())
	}
	r.bufRings = nil
	for _, m := range []*[]byte{&r.sqeMem, &r.cqMem, &r.ringMem} {
		if *m != nil {
			if err := unix.Munmap(*m); err != nil {
				errs = append(errs, fmt.Errorf("uring: close: %w", os.NewSyscallError("munmap", err)))
			}
			*m = nil
		}
	}
	r.sq, r.cq = subQueue{}, compQueue{}
	if r.fd >= 0 {
		if err := unix.Close(r.fd); err != nil {
			errs = append(errs, fmt.Errorf("uring: close: %w", os.NewSyscallError("close", err)))
		}
		r.fd = -1
	}
	return errors.Join(errs...)
}

// Enable enables a ring set up with SetupRDisabled. With
// SetupSingleIssuer, the calling thread becomes the ring's only issuer:
// call it from the goroutine that submits, locked to its OS thread.
func (r *Ring) Enable() error {
	if r.flags&uint32(SetupRDisabled) == 0 {
		return errors.New("uring: enable: the ring was not set up with SetupRDisabled")
	}
	if e := sysRegister(r.fd, registerEnableRings, nil, 0); e != 0 {
		return fmt.Errorf("uring: enable: %w", os.NewSyscallError("io_uring_register", e))
	}
	return nil
}

// Fd returns the ring's file descriptor (-1 once closed), for
// IORING_OP_MSG_RING or an eventfd-free poll on the ring itself.
func (r *Ring) Fd() int { return r.fd }

// Features returns what the kernel reported at setup.
func (r *Ring) Features() Features { return r.features }

// SQEntries returns the SQ's size, as rounded by the kernel.
func (r *Ring) SQEntries() uint32 { return r.sq.entries }

// CQEntries returns the CQ's size, as rounded by the kernel.
func (r *Ring) CQEntries() uint32 { return r.cq.entries }
