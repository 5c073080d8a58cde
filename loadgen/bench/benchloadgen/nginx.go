package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// nginxConf serves root on 127.0.0.1:port with one worker and no access
// log; its paths all lie under dir.
const nginxConf = `worker_processes 1;
worker_rlimit_nofile 65536;
error_log %[1]s/error.log;
pid %[1]s/nginx.pid;
events { worker_connections 30000; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path %[1]s/tmp;
  proxy_temp_path %[1]s/tmp;
  fastcgi_temp_path %[1]s/tmp;
  uwsgi_temp_path %[1]s/tmp;
  scgi_temp_path %[1]s/tmp;
  server { listen 127.0.0.1:%[2]d backlog=4096; root %[3]s; }
}
`

// nginx is a running nginx, in a session of its own.
type nginx struct {
	cmd  *exec.Cmd
	port int
}

// startNginx starts nginx pinned to core in the foreground, serving root,
// with its configuration, logs and pid file in dir, and waits until it
// accepts connections.
func startNginx(dir, root string, core int) (*nginx, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, port, root), 0o644); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	log, err := os.Create(filepath.Join(dir, "nginx.out"))
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	defer log.Close()
	cmd := exec.Command("taskset", "-c", strconv.Itoa(core), "nginx", "-p", dir, "-c", conf,
		"-g", "daemon off; master_process off;")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	n := &nginx{cmd: cmd, port: port}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			b, _ := os.ReadFile(log.Name())
			return nil, fmt.Errorf("nginx: exited at start: %s", firstLine(string(b)))
		default:
		}
		if c, err := net.DialTimeout("tcp", n.addr(), time.Second); err == nil {
			c.Close()
			return n, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.stop()
	return nil, fmt.Errorf("nginx: nothing listens on %s after 5s", n.addr())
}

func (n *nginx) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// stop ends nginx by its own PID: SIGTERM, then SIGKILL after 5 s.
func (n *nginx) stop() {
	p := n.cmd.Process
	p.Signal(syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if p.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.Kill()
}

// freePort returns a loopback port nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("nginx: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
