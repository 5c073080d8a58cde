package listen_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/listen"
)

// TestClassify is the errno table of every accept loop: what each failure
// of accept4 means, bare and wrapped as the callers meet it.
func TestClassify(t *testing.T) {
	tests := []struct {
		errnos []syscall.Errno
		want   listen.Class
	}{
		{[]syscall.Errno{0}, listen.Accepted},
		{[]syscall.Errno{unix.EAGAIN}, listen.Empty},
		{[]syscall.Errno{unix.EINTR, unix.ECONNABORTED, unix.EPERM, unix.EPROTO, unix.ENETDOWN, unix.ENOPROTOOPT,
			unix.EHOSTDOWN, unix.ENONET, unix.EHOSTUNREACH, unix.EOPNOTSUPP, unix.ENETUNREACH}, listen.Retry},
		{[]syscall.Errno{unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM}, listen.Resource},
		{[]syscall.Errno{unix.EBADF, unix.EINVAL, unix.ENOTSOCK}, listen.Closed},
		{[]syscall.Errno{unix.EFAULT, unix.EACCES, unix.EIO}, listen.Fatal},
	}
	for _, tt := range tests {
		for _, errno := range tt.errnos {
			var bare error
			if errno != 0 {
				bare = errno
			}
			forms := map[string]error{
				"bare":          bare,
				"SyscallError":  os.NewSyscallError("accept4", errno),
				"OpError":       &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)},
				"fmt.Errorf %w": fmt.Errorf("listener: %w", os.NewSyscallError("accept4", errno)),
			}
			if errno == 0 {
				forms = map[string]error{"nil": nil}
			}
			for form, err := range forms {
				t.Run(fmt.Sprintf("%v/%s", tt.want, form), func(t *testing.T) {
					if got := listen.Classify(err); got != tt.want {
						t.Errorf("Classify(%v (%s, errno %d)): got %v, want %v", err, form, errno, got, tt.want)
					}
				})
			}
		}
	}
	if got := listen.Classify(errors.New("no errno")); got != listen.Fatal {
		t.Errorf("Classify of an error without an errno: got %v, want %v", got, listen.Fatal)
	}
}

// TestClassFailed checks which classes count as failed accepts.
func TestClassFailed(t *testing.T) {
	for c := listen.Accepted; c <= listen.AtLimit; c++ {
		want := c == listen.Resource || c == listen.Fatal
		if got := c.Failed(); got != want {
			t.Errorf("%v.Failed(): got %v, want %v", c, got, want)
		}
	}
}
