package robust_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fdObject is what a descriptor refers to: the device and inode of a
// pipe, socket or memfd, the same in every process that holds it.
type fdObject struct{ dev, ino uint64 }

// unpooledFDs counts the descriptors of the server processes that lead to
// no live process of the pool (the CGI processes, the AMPED helpers, the
// prefork workers). Those that do come and go with the pool's size: a
// pipe, socket or memfd that one pool process holds too (and neither
// another pool process nor this test), and a pidfd of a pool process.
// Left out too: files under root, since how many the core's file cache
// holds open follows the requests, not the pool; and netlink sockets,
// since an event loop opens its sock_diag socket when it first needs it
// and keeps it. The rest must come back to its count once killed pool
// processes are replaced, or the server leaks what it held for the dead
// ones.
func unpooledFDs(root string, server, pool []int) int {
	// owner is the one pool process holding an object, or -1 when more
	// than one process does.
	owner := map[fdObject]int{}
	note := func(pid, who int) {
		for _, fd := range fds(pid) {
			if obj, ok := shareable(pid, fd); ok {
				if o, seen := owner[obj]; seen && o != who {
					who = -1
				}
				owner[obj] = who
			}
		}
	}
	note(os.Getpid(), -1)
	live := map[int]bool{}
	for _, p := range pool {
		note(p, p)
		live[p] = true
	}
	netlink := netlinkSockets()
	n := 0
	for _, s := range server {
		for _, fd := range fds(s) {
			link, _ := os.Readlink("/proc/" + strconv.Itoa(s) + "/fd/" + fd)
			if strings.HasPrefix(link, root+"/") || netlink[link] {
				continue
			}
			if obj, ok := shareable(s, fd); ok && owner[obj] > 0 {
				continue
			}
			if pid, ok := pidfdTarget(s, fd); ok && live[pid] {
				continue
			}
			n++
		}
	}
	return n
}

// netlinkSockets returns the netlink sockets of this network namespace
// as descriptor links, "socket:[INODE]".
func netlinkSockets() map[string]bool {
	socks := map[string]bool{}
	b, _ := os.ReadFile("/proc/net/netlink")
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) >= 10 {
			socks["socket:["+f[9]+"]"] = true
		}
	}
	return socks
}

// fds lists the descriptors of pid; none when it has exited.
func fds(pid int) []string {
	ents, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names
}

// shareable returns the object of pid's descriptor fd when it is a pipe,
// a socket or a memfd: what a server shares with a process it runs.
func shareable(pid int, fd string) (fdObject, bool) {
	path := "/proc/" + strconv.Itoa(pid) + "/fd/" + fd
	link, err := os.Readlink(path)
	if err != nil || !(strings.HasPrefix(link, "pipe:[") || strings.HasPrefix(link, "socket:[") || strings.HasPrefix(link, "/memfd:")) {
		return fdObject{}, false
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fdObject{}, false
	}
	return fdObject{dev: st.Dev, ino: st.Ino}, true
}

// pidfdTarget returns the process pid's descriptor fd refers to when it
// is a pidfd (the Pid line of its fdinfo: -1 once that process is gone).
func pidfdTarget(pid int, fd string) (int, bool) {
	if link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd); err != nil || link != "anon_inode:[pidfd]" {
		return 0, false
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + fd)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
			target, err := strconv.Atoi(strings.TrimSpace(v))
			return target, err == nil
		}
	}
	return 0, false
}

// settledFDs waits until the server processes hold no TCP connection
// (the clients have closed theirs, and the server must close its ends)
// and returns unpooledFDs: a count taken while a connection lingers would
// hide a descriptor leaked meanwhile.
func settledFDs(t *testing.T, root string, server, pool func() []int) int {
	t.Helper()
	var open int
	var err error
	if !waitFor(5*time.Second, func() bool { open, err = tcpConns(server()); return err == nil && open == 0 }) {
		t.Fatalf("the server's TCP connections 5 s after its clients closed theirs: got %d (%v), want none", open, err)
	}
	return unpooledFDs(root, server(), pool())
}

// tcpConns counts the TCP sockets of the processes pids that are not
// listening: connections. It looks at each socket through a copy of the
// descriptor (pidfd_getfd), whose SO_PROTOCOL and SO_ACCEPTCONN say what
// it is.
func tcpConns(pids []int) (int, error) {
	n := 0
	for _, pid := range pids {
		pidfd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // exited
		}
		for _, fd := range fds(pid) {
			link, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd)
			num, _ := strconv.Atoi(fd)
			if !strings.HasPrefix(link, "socket:[") {
				continue
			}
			c, err := unix.PidfdGetfd(pidfd, num, 0)
			if errors.Is(err, unix.EBADF) || errors.Is(err, unix.ESRCH) {
				continue // closed, or exited, meanwhile
			}
			if err != nil {
				unix.Close(pidfd)
				return n, fmt.Errorf("descriptor %d of %d: %w", num, pid, os.NewSyscallError("pidfd_getfd", err))
			}
			proto, _ := unix.GetsockoptInt(c, unix.SOL_SOCKET, unix.SO_PROTOCOL)
			listening, _ := unix.GetsockoptInt(c, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
			unix.Close(c)
			if proto == unix.IPPROTO_TCP && listening == 0 {
				n++
			}
		}
		unix.Close(pidfd)
	}
	return n, nil
}

// checkFDs waits until count, a count of the server's descriptors, is
// back to before, its value before the fault; leak names what an excess
// would be, for the failure.
func checkFDs(t *testing.T, leak string, count func() int, before int) {
	t.Helper()
	var got int
	if waitFor(5*time.Second, func() bool { got = count(); return got <= before }) {
		return
	}
	t.Errorf("descriptors of the server: got %d, want back to %d (%s)", got, before, leak)
}
