package uring_test

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
)

// BenchmarkNopBatch measures a loop turn of 32 nops: prepare, one enter
// that submits and waits, one reap.
func BenchmarkNopBatch(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(b, uring.Options{Entries: 32, Flags: uring.SetupSingleIssuer | uring.SetupDeferTaskrun})
	cqes := make([]uring.CQE, 32)
	b.ReportAllocs()
	for b.Loop() {
		for i := range 32 {
			r.GetSQE().PrepNop().SetUserData(uint64(i))
		}
		if _, err := r.SubmitAndWait(32); err != nil {
			b.Fatal(err)
		}
		if n := r.PeekBatch(cqes); n != 32 {
			b.Fatalf("PeekBatch: got %d, want 32", n)
		}
	}
}

// BenchmarkSendRecv measures a 500 B send over loopback TCP and its recv
// into a provided buffer, submitted together in one enter.
func BenchmarkSendRecv(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(b, uring.Options{Entries: 8, Flags: uring.SetupSingleIssuer | uring.SetupDeferTaskrun})
	bufs, err := r.NewBufRing(1, 8, 4096)
	if err != nil {
		b.Fatal(err)
	}
	client, server := tcpPair(b)
	msg := randomBytes(500, 5)
	cqes := make([]uring.CQE, 2)
	b.ReportAllocs()
	for b.Loop() {
		r.GetSQE().PrepSend(client, msg, unix.MSG_NOSIGNAL).SetUserData(1)
		r.GetSQE().PrepRecvSelect(server, bufs.Group(), 0, false).SetUserData(2)
		for sent, received := false, 0; !sent || received < len(msg); {
			if _, err := r.SubmitAndWait(1); err != nil {
				b.Fatal(err)
			}
			for _, c := range cqes[:r.PeekBatch(cqes)] {
				if c.Res <= 0 {
					b.Fatalf("completion %+v: want a count", c)
				}
				if bid, ok := c.Buffer(); ok {
					bufs.Recycle(bid)
				}
				if c.UserData == 1 {
					sent = true
					continue
				}
				if received += int(c.Res); received < len(msg) {
					r.GetSQE().PrepRecvSelect(server, bufs.Group(), 0, false).SetUserData(2)
				}
			}
		}
	}
}
