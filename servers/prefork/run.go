package prefork

import (
	"fmt"
	"syscall"
	"time"
)

// Run starts the workers, keeps the pool full until Shutdown, then stops
// and reaps every worker. It fails only if the first workers cannot be
// started at all.
func (s *Server) Run() error {
	defer close(s.done)
	defer s.listener.Close()
	defer s.counters.File().Close() // the master keeps its mapping
	go s.spawner()
	defer close(s.spawn)
	stopSampling := s.group.SampleEvery(s.opts.SampleEvery)
	defer stopSampling()

	for slot := range s.opts.Workers {
		if err := s.request(slot); err != nil {
			s.group.Drain(syscall.SIGTERM, 0)
			return err
		}
	}
	backoff := make([]time.Duration, s.opts.Workers)
	restart := make(chan int)
	for {
		select {
		case e := <-s.exits:
			delay := s.nextBackoff(backoff, e)
			fmt.Fprintf(s.opts.Stderr, "prefork: worker %d exited (%v) after %v; restarting in %v\n",
				e.slot, exitReason(e.err), e.age.Round(time.Millisecond), delay)
			go func() {
				select {
				case <-time.After(delay):
					select {
					case restart <- e.slot:
					case <-s.stop.C():
					}
				case <-s.stop.C():
				}
			}()
		case slot := <-restart:
			if err := s.request(slot); err != nil {
				fmt.Fprintln(s.opts.Stderr, err)
				s.exits <- exit{slot: slot, err: err} // the slot's room: it has no worker
				continue
			}
			s.restarts.Add(1)
		case <-s.stop.C():
			s.group.SampleNow() // the workers' peaks, before they exit
			s.group.Drain(syscall.SIGTERM, s.stop.Deadline())
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

// exitReason describes how a worker ended.
func exitReason(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}
