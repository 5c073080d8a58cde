package connloop

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// acceptPoll is how often a blocked accept wakes up to look at stop: a
// blocking accept cannot be interrupted otherwise (closing the descriptor
// from another thread does not wake it on Linux).
const acceptPoll = 100 * time.Millisecond

// ServeListener runs a blocking accept loop on the listening socket lfd,
// serving each connection with Serve and closing it, one at a time, until
// stop is closed or lfd is closed; then it returns nil. It sets a receive
// timeout on lfd (shared by every process holding the socket) so that
// accept wakes up to notice stop. Connection errors go to opts.OnError.
func ServeListener(lfd int, core *httpcore.Core, opts Options, stop <-chan struct{}) error {
	if err := setTimeout(lfd, unix.SO_RCVTIMEO, acceptPoll); err != nil {
		return fmt.Errorf("connloop: listener: %w", err)
	}
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
			continue
		case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE),
			errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.ENOMEM):
			time.Sleep(10 * time.Millisecond) // let connections finish and free descriptors
			continue
		case errors.Is(err, unix.EBADF), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOTSOCK):
			return nil // lfd was closed (or shut down)
		default:
			return fmt.Errorf("connloop: listener: %w", os.NewSyscallError("accept4", err))
		}
		serveErr := Serve(fd, core, opts)
		unix.Close(fd)
		if serveErr != nil && opts.OnError != nil {
			opts.OnError(serveErr)
		}
	}
}
