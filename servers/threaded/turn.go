package threaded

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations (linux/futex.h); x/sys/unix does not name them. The
// private flag says the word is not shared with another process.
const (
	futexWaitPrivate = 0 | 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 1 | 128 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
)

// turn is a lock on a futex word that the serving threads take before
// accept4 (the Acceptor holds it through Wait: listen.Options.Turn). A
// thread waits for it in the kernel, as a C MT server's threads wait on a
// pthread mutex, and the kernel wakes exactly one waiter when it is
// released. A Go channel or sync.Mutex would wake the next thread through
// the Go scheduler, which must hand a processor over to the waiter's
// locked thread, a detour on every connection that a C server does not
// take (with a channel here, a quarter fewer connections per second were
// served).
//
// The word is 0 when free, 1 when held, 2 when held and a thread may be
// waiting (Drepper, "Futexes Are Tricky", mutex 3).
type turn struct {
	v atomic.Uint32
}

// Lock takes the turn, sleeping in the kernel while another thread has it.
func (t *turn) Lock() {
	if t.v.CompareAndSwap(0, 1) {
		return
	}
	for t.v.Swap(2) != 0 {
		t.wait(2)
	}
}

// Unlock gives the turn up and wakes one waiting thread, if any may wait.
func (t *turn) Unlock() {
	if t.v.Swap(0) == 2 {
		t.wake()
	}
}

// wait sleeps while the word holds val. It returns early on a wake-up, a
// signal, or a word that changed before the sleep; Lock looks again.
func (t *turn) wait(val uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&t.v)),
		futexWaitPrivate, uintptr(val), 0, 0, 0)
}

// wake wakes one thread sleeping on the word.
func (t *turn) wake() {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&t.v)),
		futexWakePrivate, 1, 0, 0, 0)
}
