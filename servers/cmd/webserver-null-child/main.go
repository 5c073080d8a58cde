// Command webserver-null-child is the floor of the forking architecture:
// `webserver --arch forking --child webserver-null-child` runs it for each
// connection, with the socket at descriptor 3, and it answers every
// request with the null server's canned response (package null) from
// blocking reads and writes, then exits when the client closes or asks
// to, or after the default idle timeout. It opens no file and builds no
// HTTP core, so its cost per connection is what a new Go process per
// connection costs at least here (the execve, the runtime's start),
// beside mini_httpd's fork alone.
package main

import (
	"os"
	"syscall"

	"flashbench/servers/forking"
	"flashbench/servers/internal/child/argv"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/null"
)

const help = "Answers every request on the connection at descriptor 3 with the null server's canned\n" +
	"response, then exits. webserver --arch forking --child webserver-null-child runs it once per\n" +
	"connection (with a --config it ignores); it is not meant to be run by hand."

func main() {
	if _, code, done := argv.Parse("webserver-null-child", help, os.Args[1:], os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
	serve(forking.ConnFD)
	syscall.Close(forking.ConnFD)
	os.Exit(0)
}

// serve answers the requests on fd until the connection ends. The socket
// inherits the forking listener's receive timeout (its accept poll): the
// default idle and write timeouts replace it, as connloop sets its own.
func serve(fd int) {
	rcv := syscall.NsecToTimeval(httpconn.DefaultIdleTimeout.Nanoseconds())
	snd := syscall.NsecToTimeval(httpconn.DefaultWriteTimeout.Nanoseconds())
	if syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &rcv) != nil ||
		syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &snd) != nil {
		return
	}
	buf := make([]byte, null.MaxRequest)
	n := 0
	for {
		m, err := syscall.Read(fd, buf[n:])
		if m <= 0 || err != nil {
			return
		}
		n += m
		for {
			used, resp, closeAfter := null.Answer(buf[:n])
			if used == 0 {
				if n == len(buf) {
					return // a header longer than null's bound
				}
				break
			}
			if !writeAll(fd, resp) || closeAfter {
				return
			}
			n = copy(buf, buf[used:n])
		}
	}
}

// writeAll writes b to fd, and reports whether it all went.
func writeAll(fd int, b []byte) bool {
	for len(b) > 0 {
		m, err := syscall.Write(fd, b)
		if m <= 0 || err != nil {
			return false
		}
		b = b[m:]
	}
	return true
}
