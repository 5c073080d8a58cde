package connloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/listen"
)

// ServeListener runs a blocking accept-serve loop on acc (a blocking
// listen.Acceptor): it serves each connection with Serve, closes it and
// releases it, one at a time, until stop is closed or the listener is
// shut down, then returns nil; or until accepting fails for good, and
// returns that error. Connection errors go to opts.OnError.
func ServeListener(acc *listen.Acceptor, core *httpcore.Core, opts Options, stop <-chan struct{}) error {
	for {
		fd, err := acc.Wait(stop)
		if fd < 0 {
			return err
		}
		serveErr := Serve(fd, core, opts)
		unix.Close(fd)
		acc.Release()
		if serveErr != nil && opts.OnError != nil {
			opts.OnError(serveErr)
		}
	}
}
