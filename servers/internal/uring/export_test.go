package uring

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// PoisonUserData is the user data PoisonReaped leaves in reaped slots.
var PoisonUserData = poisonCQE.UserData

// Indices returns the SQ's and CQ's heads and tails as the kernel sees
// them, for the property tests.
func (r *Ring) Indices() (sqHead, sqTail, cqHead, cqTail uint32) {
	return atomic.LoadUint32(r.sq.khead), atomic.LoadUint32(r.sq.ktail),
		atomic.LoadUint32(r.cq.khead), atomic.LoadUint32(r.cq.ktail)
}

// PoisonReaped makes PeekBatch overwrite each CQE it copied with
// PoisonUserData before it releases the slot, so that a read that
// overtook the kernel's write shows.
func (r *Ring) PoisonReaped(on bool) { r.cq.poison = on }

// SetupError returns New's error for io_uring_setup failing with e, with
// kernel.io_uring_disabled read from path.
func SetupError(e unix.Errno, path string) error { return setupError(e, path) }
