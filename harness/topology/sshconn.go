package topology

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// DialContext implements Dialer: the connection is made by the first
// client host (ssh -W), so the harness reaches the server as the clients
// do, whatever lies between this machine and the server. As with
// net.Dialer, ctx does not bound the connection once made; a failure to
// connect shows as the connection's end.
func (s *SSH) DialContext(_ context.Context, network, address string) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil, fmt.Errorf("ssh dial %s: network %s: only tcp", address, network)
	}
	host := s.o.ClientHosts[0]
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("ssh dial %s: %w", address, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("ssh dial %s: %w", address, err)
	}
	c := exec.Command(s.ssh, append(s.options(false), "-W", address, host)...)
	c.Stdin, c.Stdout = inR, outW
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = c.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("ssh dial %s: %w", address, err)
	}
	conn := &pipeConn{cmd: c, r: outR, w: inW, done: make(chan struct{})}
	go func() { c.Wait(); close(conn.done) }()
	return conn, nil
}

// pipeConn is a connection carried by an ssh -W process's standard input
// and output. Pipes support deadlines, so the connection does too.
type pipeConn struct {
	cmd  *exec.Cmd
	r, w *os.File
	done chan struct{}
}

func (c *pipeConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *pipeConn) Write(b []byte) (int, error) { return c.w.Write(b) }

// Close closes both pipes and ends the ssh process.
func (c *pipeConn) Close() error {
	c.w.Close()
	c.r.Close()
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	return nil
}

func (c *pipeConn) LocalAddr() net.Addr  { return pipeAddr("ssh") }
func (c *pipeConn) RemoteAddr() net.Addr { return pipeAddr("ssh") }

func (c *pipeConn) SetDeadline(t time.Time) error {
	c.r.SetReadDeadline(t)
	return c.w.SetWriteDeadline(t)
}

func (c *pipeConn) SetReadDeadline(t time.Time) error  { return c.r.SetReadDeadline(t) }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { return c.w.SetWriteDeadline(t) }

type pipeAddr string

func (a pipeAddr) Network() string { return string(a) }
func (a pipeAddr) String() string  { return string(a) }
