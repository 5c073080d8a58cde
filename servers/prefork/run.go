package prefork

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// Run starts the workers, keeps the pool full until Shutdown, then stops
// and reaps every worker. It fails only if the first workers cannot be
// started at all.
func (s *Server) Run() error {
	defer close(s.done)
	defer s.listener.Close()
	go s.spawner()
	defer close(s.spawn)
	stopSampling := s.sample()
	defer stopSampling()

	for slot := range s.opts.Workers {
		if err := s.request(slot); err != nil {
			s.drain(0)
			return err
		}
	}
	backoff := make([]time.Duration, s.opts.Workers)
	restart := make(chan int)
	for {
		select {
		case e := <-s.exits:
			s.forget(e.slot)
			delay := s.nextBackoff(backoff, e)
			fmt.Fprintf(s.opts.Stderr, "prefork: worker %d exited (%v) after %v; restarting in %v\n",
				e.slot, exitReason(e.err), e.age.Round(time.Millisecond), delay)
			go func() {
				select {
				case <-time.After(delay):
					select {
					case restart <- e.slot:
					case <-s.stop:
					}
				case <-s.stop:
				}
			}()
		case slot := <-restart:
			if err := s.request(slot); err != nil {
				fmt.Fprintln(s.opts.Stderr, err)
				go func() {
					select {
					case s.exits <- exit{slot: slot, err: err}:
					case <-s.done:
					}
				}()
				continue
			}
			s.restarts.Add(1)
		case <-s.stop:
			s.sampleNow() // the workers' peaks, before they exit
			s.drain(time.Duration(s.deadline.Load()))
			return nil
		}
	}
}

// request has the spawning thread start the worker of slot.
func (s *Server) request(slot int) error {
	reply := make(chan error)
	s.spawn <- spawnReq{slot: slot, reply: reply}
	return <-reply
}

// nextBackoff returns the delay before restarting the worker of e.slot:
// none for a worker that lived past Young, else twice the last delay,
// between MinBackoff and MaxBackoff.
func (s *Server) nextBackoff(backoff []time.Duration, e exit) time.Duration {
	if e.age >= s.opts.Young {
		backoff[e.slot] = 0
		return 0
	}
	backoff[e.slot] = min(max(2*backoff[e.slot], s.opts.MinBackoff), s.opts.MaxBackoff)
	return backoff[e.slot]
}

// drain sends SIGTERM to every live worker, SIGKILL to those still alive
// after deadline, and reaps them all.
func (s *Server) drain(deadline time.Duration) {
	s.signalAll(syscall.SIGTERM)
	kill := time.After(deadline)
	for s.live() > 0 {
		select {
		case e := <-s.exits:
			s.forget(e.slot)
		case <-kill:
			s.signalAll(syscall.SIGKILL)
			kill = nil
		}
	}
}

func (s *Server) signalAll(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cmd := range s.workers {
		cmd.Process.Signal(sig)
	}
}

func (s *Server) live() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.workers)
}

func (s *Server) forget(slot int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.workers, slot)
}

// sample records the memory of the process tree until the returned
// function is called.
func (s *Server) sample() (stop func()) {
	return s.peak.SampleEvery(s.opts.SampleEvery, s.tree)
}

// sampleNow adds the master and its live workers to the peak memory.
func (s *Server) sampleNow() { s.peak.SampleSet(s.tree()) }

// tree is the master and its live workers.
func (s *Server) tree() []int { return append(s.Workers(), os.Getpid()) }

// exitReason describes how a worker ended.
func exitReason(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}
