package uring_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"flashbench/servers/internal/uring"
)

// maxSteps bounds a FuzzCompletions program.
const maxSteps = 256

// fuzzFlags are the setup flags FuzzCompletions picks from with its first
// byte.
var fuzzFlags = []uring.SetupFlags{
	0,
	uring.SetupCoopTaskrun | uring.SetupTaskrunFlag,
	uring.SetupSingleIssuer | uring.SetupDeferTaskrun,
	uring.SetupSingleIssuer | uring.SetupDeferTaskrun | uring.SetupTaskrunFlag | uring.SetupSubmitAll,
}

// FuzzCompletions runs a program of steps against a real ring small
// enough to fill (an SQ of 4, a CQ of 8): prepare nops with distinct user
// data (some that post no completion on success, some run by a kernel
// worker), submit, wait, reap batches of any size. After every step the
// heads and tails must not run past each other, and in the end every
// nop that posts a completion has posted exactly one, and no other
// completion came.
//
// The program's first byte picks the setup flags; each further byte is a
// step: its top two bits the kind, its low six the argument.
func FuzzCompletions(f *testing.F) {
	f.Add([]byte{0, 0x07, 0x40, 0x07, 0x40, 0x07, 0x40, 0x88, 0xc3})
	f.Add([]byte{2, 0x1f, 0xc1, 0x0f, 0x40, 0x83, 0x80})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) == 0 {
			return
		}
		// Longer programs find nothing new and slow the minimizer down.
		prog = prog[:min(len(prog), maxSteps+1)]
		skip, fail := runOnOwner(fuzzFlags[int(prog[0])%len(fuzzFlags)], prog[1:])
		if skip != "" {
			t.Skip(skip)
		}
		if fail != "" {
			t.Fatal(fail)
		}
	})
}

// The fuzzing process runs every program on one goroutine locked to its
// thread, which keeps a ring per set of setup flags from one input to the
// next: a ring set up and torn down per input (hundreds of thousands in a
// fuzzing run) floods the kernel's ring-teardown workers until the machine
// stalls. A single-issuer ring must stay on the thread that set it up,
// hence the one owner. Every program drains its completions, so the next
// starts on an idle ring whose indices have moved on, wrapping around in
// a long run.
var owner struct {
	once  sync.Once
	jobs  chan func()
	rings map[uring.SetupFlags]*uring.Ring
}

// runOnOwner runs prog on the owner's ring with flags and returns why it
// was skipped or failed ("" for neither). A ring on which a program failed
// is closed and set up afresh for the next.
func runOnOwner(flags uring.SetupFlags, prog []byte) (skip, fail string) {
	owner.once.Do(func() {
		owner.jobs, owner.rings = make(chan func()), map[uring.SetupFlags]*uring.Ring{}
		go func() {
			runtime.LockOSThread()
			for job := range owner.jobs {
				job()
			}
		}()
	})
	done := make(chan struct{})
	owner.jobs <- func() {
		defer close(done)
		r := owner.rings[flags]
		if r == nil {
			var err error
			r, err = uring.New(uring.Options{Entries: 4, CQEntries: 8, Flags: flags})
			if errors.Is(err, uring.ErrUnavailable) {
				skip = fmt.Sprintf("io_uring is unavailable on this machine: %v", err)
				return
			}
			if err != nil {
				fail = fmt.Sprintf("New(flags %#x): %v", flags, err)
				return
			}
			owner.rings[flags] = r
		}
		if fail = runProgram(r, prog); fail != "" {
			r.Close()
			delete(owner.rings, flags)
		}
	}
	<-done
	return skip, fail
}

// runProgram runs prog's steps on r against the model; it returns the
// first failure, "" for none.
func runProgram(r *uring.Ring, prog []byte) (fail string) {
	defer func() {
		p := recover()
		if f, ok := p.(failure); ok {
			fail = string(f)
		} else if p != nil {
			panic(p)
		}
	}()
	var t recorder
	m := &completionModel{r: r, want: map[uint64]bool{}, seen: map[uint64]bool{}}
	for i, b := range prog {
		m.step(t, b)
		m.check(t, i, b)
	}
	m.drain(t)
	return ""
}

// failure is a failed check of the model, carried out of the program by a
// panic: the owner's goroutine is not the test's, where t.Fatal belongs.
type failure string

// recorder is the model's testing.T on the owner's goroutine: Fatalf ends
// the program with a failure.
type recorder struct{}

func (recorder) Fatalf(format string, args ...any) { panic(failure(fmt.Sprintf(format, args...))) }

// completionModel is what FuzzCompletions expects of the ring.
type completionModel struct {
	r    *uring.Ring
	next uint64          // the next nop's user data
	want map[uint64]bool // nops whose completion is still to come
	seen map[uint64]bool // nops whose completion came
	cqes [8]uring.CQE
}

// step runs one step of the program.
func (m *completionModel) step(t recorder, b byte) {
	arg := int(b & 0x3f)
	switch b >> 6 {
	case 0: // prepare arg%8 nops; bit 3: skip success; bit 4: async
		for range arg & 7 {
			sqe := m.r.GetSQE()
			if sqe == nil {
				break
			}
			sqe.PrepNop().SetUserData(m.next)
			if arg&8 != 0 {
				sqe.SkipSuccess()
			} else {
				m.want[m.next] = true
			}
			if arg&16 != 0 {
				sqe.Async()
			}
			m.next++
		}
	case 1:
		if _, err := m.r.Submit(); err != nil && !errors.Is(err, uring.ErrBusy) {
			t.Fatalf("Submit: %v", err)
		}
	case 2:
		m.reap(t, arg%(len(m.cqes)+1))
	case 3: // wait for no more completions than will come
		n := uint32(min(arg%4, len(m.want)))
		if _, err := m.r.SubmitAndWaitTimeout(n, 5*time.Second); err != nil && !errors.Is(err, uring.ErrBusy) {
			t.Fatalf("SubmitAndWaitTimeout(%d): %v", n, err)
		}
	}
}

// reap takes up to n completions and checks each against the model.
func (m *completionModel) reap(t recorder, n int) int {
	k := m.r.PeekBatch(m.cqes[:n])
	for _, c := range m.cqes[:k] {
		switch {
		case m.seen[c.UserData]:
			t.Fatalf("completion %+v: user data seen before, want each once", c)
		case !m.want[c.UserData]:
			t.Fatalf("completion %+v: user data of no nop that posts one (next is %d)", c, m.next)
		case c.Res != 0 || c.Flags != 0:
			t.Fatalf("completion %+v: want Res 0 and no flags", c)
		}
		delete(m.want, c.UserData)
		m.seen[c.UserData] = true
	}
	return k
}

// check verifies that no head ran past its tail and no tail past its
// head plus the queue's size.
func (m *completionModel) check(t recorder, i int, b byte) {
	sqHead, sqTail, cqHead, cqTail := m.r.Indices()
	if d := sqTail - sqHead; d > m.r.SQEntries() {
		t.Fatalf("after step %d (%#x): SQ head %d, tail %d: %d entries in an SQ of %d", i, b, sqHead, sqTail, d, m.r.SQEntries())
	}
	if d := cqTail - cqHead; d > m.r.CQEntries() {
		t.Fatalf("after step %d (%#x): CQ head %d, tail %d: %d entries in a CQ of %d", i, b, cqHead, cqTail, d, m.r.CQEntries())
	}
	if d := m.r.SQReady(); d > m.r.SQEntries() {
		t.Fatalf("after step %d (%#x): SQReady %d in an SQ of %d", i, b, d, m.r.SQEntries())
	}
	if d := m.r.Dropped(); d != 0 {
		t.Fatalf("after step %d (%#x): %d completions dropped", i, b, d)
	}
}

// drain submits what is left and reaps until every expected completion
// came, then checks that nothing else comes.
func (m *completionModel) drain(t recorder) {
	deadline := time.Now().Add(5 * time.Second)
	for len(m.want) > 0 || m.r.SQReady() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("drain: %d completions missing after 5s (%d SQEs unsubmitted)", len(m.want), m.r.SQReady())
		}
		n := uint32(min(1, len(m.want))) // nops that skip success post nothing to wait for
		if _, err := m.r.SubmitAndWaitTimeout(n, 100*time.Millisecond); err != nil && !errors.Is(err, uring.ErrBusy) {
			t.Fatalf("drain: %v", err)
		}
		m.reap(t, len(m.cqes))
	}
	// Wait for none: the kernel runs what completion work is pending
	// and returns at once.
	if _, err := m.r.SubmitAndWait(0); err != nil {
		t.Fatalf("drain: %v", err)
	}
	if k := m.r.PeekBatch(m.cqes[:]); k != 0 {
		t.Fatalf("drain: got %d more completions %+v, want none", k, m.cqes[:k])
	}
}
