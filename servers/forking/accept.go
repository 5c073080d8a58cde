package forking

import (
	"fmt"
	"os"
	"time"

	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/proctree"
)

// acceptLoop accepts a connection and starts its child, until stop is
// closed or the listener shut down. The Acceptor holds a slot of
// MaxChildren per connection, which the child's exit gives back: at the
// bound the loop waits and new connections wait in the listen backlog.
func (s *Server) acceptLoop() error {
	for {
		fd, err := s.acc.Wait(s.stop.C())
		if fd < 0 {
			if err != nil {
				return fmt.Errorf("forking: %w", err)
			}
			return nil
		}
		if err := s.startChild(fd); err != nil {
			s.acc.Release()
			fmt.Fprintln(s.opts.Stderr, err)
			time.Sleep(listen.Backoff) // out of processes or memory: let children finish
		}
	}
}

// startChild starts the child for connection fd and closes the parent's
// copy of fd. The child's exit frees its slot.
func (s *Server) startChild(fd int) error {
	conn := os.NewFile(uintptr(fd), "conn")
	defer conn.Close()      // the child has its own copy from here on
	cmd := s.opts.Cmd(conn) // at ConnFD
	if err := s.group.Start(cmd, func(proctree.Exit) { s.acc.Release() }); err != nil {
		return fmt.Errorf("forking: start child: %w", err)
	}
	return nil
}
