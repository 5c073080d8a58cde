package loadgen

import (
	"math"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// timerSlot marks the timerfd's epoll events.
const timerSlot = -1

// yieldEvery is how often a busy worker yields to the scheduler; under the
// runtime's 10 ms preemption slice.
const yieldEvery = int64(8 * time.Millisecond)

// worker is one OS thread's share of the load: an epoll loop over its
// connections. Everything in it is touched by that thread alone, except
// the progress counters.
type worker struct {
	id    int
	cfg   *Config
	base  time.Time // t=0 of the run; times are ns since base
	epfd  int
	tfd   int // timerfd for sub-millisecond waits in open loops
	conns []conn
	buf   []byte
	evs   []unix.EpollEvent
	ev    unix.EpollEvent
	dial  *dialer
	src   Source
	pacer Pacer
	stats stats

	measureStart int64
	endAt        int64
	budget       int64 // requests left in the measurement, <0 unlimited
	nextArrival  int64
	idle         []int32 // open loop: slots that can take a request now
	sleepers     []int32 // closed loop with think time, in wake order
	nextScan     int64
	nextYield    int64
	scanEvery    int64
	stopping     bool
	exhausted    bool
	aborted      int64
	drainUntil   int64
	// warmupRequests counts the requests issued during the warm-up.
	warmupRequests int64

	stop     *atomic.Bool
	done     atomic.Int64
	failures atomic.Int64
	err      error
}

func newWorker(id int, cfg *Config, t target, base time.Time, conns int, out chan<- Interval, stop *atomic.Bool) *worker {
	w := &worker{
		id: id, cfg: cfg, base: base, epfd: -1, tfd: -1,
		conns: make([]conn, conns), buf: make([]byte, 64<<10),
		evs: make([]unix.EpollEvent, min(conns+1, 1024)), dial: newDialer(cfg, t, id),
		src: cfg.Workload.NewSource(id, cfg.Threads, cfg.Seed), pacer: newPacer(cfg, id),
		measureStart: int64(cfg.Warmup), endAt: math.MaxInt64, budget: -1, stop: stop,
	}
	if cfg.Duration > 0 {
		w.endAt = int64(cfg.Warmup + cfg.Duration)
	}
	if cfg.Requests > 0 {
		w.budget = cfg.Requests / int64(cfg.Threads)
		if int64(id) < cfg.Requests%int64(cfg.Threads) {
			w.budget++
		}
	}
	w.scanEvery = int64(10 * time.Millisecond)
	if conns > 1000 {
		w.scanEvery = int64(50 * time.Millisecond)
	}
	w.stats.Histograms = newHistograms(len(cfg.Workload.Classes()))
	w.stats.ivHist = NewHistogram()
	w.stats.out = out
	for i := range w.conns {
		w.conns[i].init(cfg)
	}
	return w
}

func (w *worker) now() int64 { return int64(time.Since(w.base)) }

func (w *worker) measuring(now int64) bool { return now >= w.measureStart }

// run is the worker's goroutine body, on its own locked OS thread.
func (w *worker) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer w.close()
	if err := w.open(); err != nil {
		w.err = err
		return
	}
	w.start(w.now())
	for w.loop() {
	}
	now := w.now()
	w.stats.flushTo(now-w.measureStart, true)
}

func (w *worker) open() error {
	var err error
	if w.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	if w.pacer == nil && w.cfg.ThinkTime == 0 {
		return nil
	}
	if w.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		return os.NewSyscallError("timerfd_create", err)
	}
	w.ev = unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: timerSlot}
	return os.NewSyscallError("epoll_ctl", unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, w.tfd, &w.ev))
}

func (w *worker) close() {
	for i := range w.conns {
		if w.conns[i].fd >= 0 {
			rawClose(w.conns[i].fd)
			w.conns[i].fd = -1
		}
	}
	if w.tfd >= 0 {
		unix.Close(w.tfd)
	}
	if w.epfd >= 0 {
		unix.Close(w.epfd)
	}
}

// start puts every slot to work: a closed loop fills them all, an open loop
// parks them until arrivals are due.
func (w *worker) start(now int64) {
	if w.pacer != nil {
		w.nextArrival = int64(w.pacer.Next())
		for i := len(w.conns) - 1; i >= 0; i-- {
			w.conns[i].parked = true
			w.idle = append(w.idle, int32(i))
		}
		return
	}
	for i := range w.conns {
		w.issue(int32(i), now)
	}
}

// loop runs one iteration: bookkeeping, then one epoll wait and its events.
// It reports whether the worker should go on.
func (w *worker) loop() bool {
	now := w.now()
	if !w.stopping && (now >= w.endAt || w.stop.Load() || w.exhausted || w.budget == 0) {
		w.beginStop(now)
	}
	if w.stopping && w.drained(now) {
		return false
	}
	if w.measuring(now) {
		w.stats.flushTo(now-w.measureStart, false)
	}
	w.dispatch(now)
	w.wakeSleepers(now)
	if now >= w.nextScan {
		w.scan(now)
		w.nextScan = now + w.scanEvery
	}
	if now >= w.nextYield {
		// Yield now and then, so that the runtime sees the worker being
		// scheduled: a goroutine that runs on for 10 ms is preempted with
		// a signal, or loses its P if it is in epoll_wait at that moment,
		// and either sets the runtime's monitor polling every 20 µs again.
		runtime.Gosched()
		w.nextYield = now + yieldEvery
	}
	n, err := w.wait(now)
	if err != nil {
		w.err = err
		return false
	}
	for i := 0; i < n; i++ {
		w.event(w.evs[i])
	}
	return true
}

// wait collects ready events, waiting for them only as long as there is
// nothing else to do. A wait goes through the scheduler, a poll does not.
func (w *worker) wait(now int64) (int, error) {
	ms := w.waitMillis(now)
	if ms == 0 {
		n, errno := rawEpollPoll(w.epfd, w.evs)
		if errno != 0 && errno != unix.EINTR {
			return 0, os.NewSyscallError("epoll_pwait", errno)
		}
		return max(n, 0), nil
	}
	n, err := unix.EpollWait(w.epfd, w.evs, ms)
	if err != nil && err != unix.EINTR {
		return 0, os.NewSyscallError("epoll_wait", err)
	}
	return max(n, 0), nil
}

// beginStop ends issuing; in-flight requests may finish until the drain
// deadline (their timeout, or a short grace period when interrupted).
func (w *worker) beginStop(now int64) {
	w.stopping = true
	grace := int64(w.cfg.Timeout)
	if w.stop.Load() {
		grace = min(grace, int64(500*time.Millisecond))
	}
	w.drainUntil = now + grace
	for i := range w.conns {
		if c := &w.conns[i]; c.n == 0 && !c.connecting {
			w.closeConn(c)
		}
	}
}

// drained reports whether nothing is in flight any more; past the drain
// deadline it abandons what is left, counting it as aborted.
func (w *worker) drained(now int64) bool {
	busy := false
	for i := range w.conns {
		if c := &w.conns[i]; c.n > 0 {
			busy = true
		}
	}
	if !busy {
		return true
	}
	if now < w.drainUntil {
		return false
	}
	for i := range w.conns {
		c := &w.conns[i]
		w.aborted += int64(c.measuredInFlight())
		c.n = 0
		w.closeConn(c)
	}
	return true
}

// waitMillis picks the epoll timeout: until the next arrival, wake-up,
// timeout scan or phase change. Waits under 2 ms go through the timerfd.
func (w *worker) waitMillis(now int64) int {
	next := w.nextScan
	if w.pacer != nil && len(w.idle) > 0 && !w.stopping {
		next = min(next, w.nextArrival)
	}
	if len(w.sleepers) > 0 {
		next = min(next, w.conns[w.sleepers[0]].wake)
	}
	if now < w.measureStart {
		next = min(next, w.measureStart)
	} else if !w.stopping {
		next = min(next, w.endAt, w.measureStart+(w.stats.ivIndex+1)*int64(time.Second))
	}
	d := next - now
	switch {
	case d <= 0:
		return 0
	case d < int64(2*time.Millisecond) && w.tfd >= 0:
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d)}
		if err := unix.TimerfdSettime(w.tfd, 0, &spec, nil); err != nil {
			return 0
		}
		return 2
	}
	// Wake a millisecond early; the timerfd takes the last stretch.
	return max(int(d/int64(time.Millisecond))-1, 1)
}

// event handles one epoll event, ignoring those of a slot's earlier socket.
func (w *worker) event(ev unix.EpollEvent) {
	if ev.Fd == timerSlot {
		var b [8]byte
		unix.Read(w.tfd, b[:])
		return
	}
	c := &w.conns[ev.Fd]
	if c.fd < 0 || c.gen != ev.Pad {
		return
	}
	if c.connecting {
		if ev.Events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			errno, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err == nil && errno != 0 {
				err = unix.Errno(errno)
			}
			w.fail(ev.Fd, connectClass(err), w.now())
			return
		}
		if ev.Events&unix.EPOLLOUT == 0 {
			return
		}
		w.connected(ev.Fd, w.now())
		return
	}
	if ev.Events&unix.EPOLLOUT != 0 && len(c.wpending) > 0 {
		if !w.flush(ev.Fd) {
			return
		}
	}
	if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		w.readable(ev.Fd, ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0)
	}
}

// dispatch hands due open-loop arrivals to idle slots. Once the request
// count or the workload has run out, a slot takes no arrival: it would go
// back to the idle list with the arrival still due, and be handed it again
// forever. The loop's next turn stops the worker instead.
func (w *worker) dispatch(now int64) {
	for w.pacer != nil && !w.stopping && w.budget != 0 && !w.exhausted && len(w.idle) > 0 && w.nextArrival <= now {
		i := w.idle[len(w.idle)-1]
		w.idle = w.idle[:len(w.idle)-1]
		w.conns[i].parked = false
		w.issue(i, now)
	}
}

func (w *worker) wakeSleepers(now int64) {
	for len(w.sleepers) > 0 && w.conns[w.sleepers[0]].wake <= now {
		i := w.sleepers[0]
		w.sleepers = w.sleepers[1:]
		w.conns[i].sleeping = false
		if !w.stopping {
			w.issue(i, now)
		}
	}
}

// scan enforces connect and request timeouts.
func (w *worker) scan(now int64) {
	for i := range w.conns {
		c := &w.conns[i]
		if c.fd < 0 || now < c.deadline || (c.n == 0 && !c.connecting) {
			continue
		}
		if !c.connecting {
			w.fail(int32(i), Timeout, now)
			continue
		}
		if w.cfg.SClient && !w.stopping {
			// S-Client: abort the attempt and re-issue it at once.
			w.countError(ConnectTimeout, now, 1)
			if w.measuring(now) {
				w.stats.total.AbortedConnects++
				w.stats.interval.AbortedConnects++
			}
			w.closeConn(c)
			w.connect(int32(i), now)
			continue
		}
		w.fail(int32(i), ConnectTimeout, now)
	}
}

func (w *worker) countError(class ErrorClass, now int64, n int64) {
	if !w.measuring(now) || n == 0 {
		return
	}
	w.stats.total.Errors[class] += n
	w.stats.interval.Errors[class] += n
	w.failures.Add(n)
}
