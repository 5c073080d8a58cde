// Package uring is a minimal io_uring over golang.org/x/sys/unix: setup,
// the two mapped queues, enter, a provided-buffer ring, a probe of the
// kernel's operations, and the preparation of the operations a
// single-threaded flashbench server loop uses (accept, recv, send,
// sendmsg, writev, send_zc, splice, read, close, timeouts, cancel, poll).
// It asks whether one ring makes AMPED's helper processes unnecessary: the
// socket and the file I/O of one thread through one queue pair.
//
// # Layout
//
// io_uring_setup returns a file descriptor whose mappings the process
// shares with the kernel. The SQ ring holds a head, a tail, a mask, flags
// and an index array; the SQEs themselves (64 bytes each) are a separate
// array. The CQ ring holds its own head, tail and mask, an overflow count
// and the CQEs (16 bytes each); with FeatSingleMmap it shares one mapping
// with the SQ ring. The index array is filled once with the identity, so
// SQE i is always slot i. Each queue has one producer and one consumer:
// the process produces SQEs and consumes CQEs, the kernel the reverse.
// Heads and tails are free-running 32-bit counters, masked to index a
// slot; tail-head (modulo 2^32) is the number of entries, never more than
// the queue's size.
//
// # Ordering rules
//
// A producer writes entries with plain stores, then publishes them with a
// release store of its tail; a consumer loads the tail with acquire, reads
// the entries below it with plain loads, then frees their slots with a
// release store of its head. The producer loads the consumer's head with
// acquire before it reuses a slot. Concretely (sq.go, cq.go, bufring.go):
//
//   - SQ tail, stored by the process after the SQEs (release): the kernel
//     must not see the tail before the SQEs it covers.
//   - SQ head, loaded by the process in GetSQE (acquire): a slot is reused
//     only after the kernel has finished reading it.
//   - CQ tail, loaded by the process before it copies CQEs (acquire): no
//     CQE is read before the kernel finished writing it.
//   - CQ head, stored by the process after it copied the CQEs (release):
//     the kernel must not overwrite a slot that is still being read.
//   - A buffer ring's tail, stored after the slots (release), as the SQ's.
//   - The SQ flags word (overflow, task work), loaded atomically: the
//     kernel sets and clears its bits at any time.
//
// Go has no acquire or release operations: sync/atomic's loads and stores
// on *uint32 that point into the mappings are sequentially consistent,
// stronger than needed and correct. Every such pointer comes from one of
// the few helpers in mem.go, the only file with pointer arithmetic.
//
// # Use
//
// A loop turn gets SQEs with GetSQE, prepares each with a Prep method and
// tags it with SetUserData (a connection id and the kind of operation),
// then calls SubmitAndWait(1) or SubmitAndWaitTimeout once, and reaps with
// PeekBatch into a reused slice. GetSQE returns nil when the SQ is full:
// Submit and ask again. A submit error matching ErrBusy asks to reap
// first. Completions that do not fit the CQ wait in the kernel
// (FeatNodrop) and are flushed by the next enter; none is lost. Memory an
// SQE points at is the caller's until the completion (see SQE).
//
// New probes the kernel (IORING_REGISTER_PROBE); Require names, in one
// line, the operations a caller needs and the kernel lacks. When the
// machine refuses io_uring (kernel.io_uring_disabled, a seccomp filter, no
// io_uring in the kernel), New's error matches ErrUnavailable and says
// which in one line.
package uring
