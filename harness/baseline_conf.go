package harness

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// The generated configurations share what makes the comparison fair: the
// same document root, access logging off, keep-alive on with no request
// bound, sendfile where the server has it, one listener on the target
// address. Each server runs in the foreground; the harness pins it.

func (x *external) nginx(deferred bool) string {
	var b strings.Builder
	if x.User != "" {
		fmt.Fprintf(&b, "user %s;\n", x.User)
	}
	fmt.Fprintf(&b, `daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile %d;
pid %s;
error_log %s warn;
events {
    worker_connections %d;
}
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;
    server {
        listen %s backlog=4096%s;
        root %s;
    }
}
`, x.MaxConns+64, filepath.Join(x.Dir, "nginx.pid"), filepath.Join(x.Dir, "error.log"), x.MaxConns+64,
		x.tmp("client_body"), x.tmp("proxy"), x.tmp("fastcgi"), x.tmp("uwsgi"), x.tmp("scgi"),
		x.Addr, listenDeferred(deferred), x.Docroot)
	return b.String()
}

// listenDeferred is the parameter of nginx's listen directive that sets
// TCP_DEFER_ACCEPT, or nothing.
func listenDeferred(deferred bool) string {
	if deferred {
		return " deferred"
	}
	return ""
}

func (x *external) tmp(name string) string { return filepath.Join(x.Dir, name+"_temp") }

// apache returns an httpd.conf for mpm (prefork, worker or event) that
// loads only the modules static files need.
func (x *external) apache(mpm string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %s\nDefaultRuntimeDir %s\nPidFile %s\nErrorLog %s\nLogLevel warn\nMutex file:%s default\n",
		x.Dir, x.Dir, filepath.Join(x.Dir, "httpd.pid"), filepath.Join(x.Dir, "error.log"), x.Dir)
	for _, m := range []string{"mpm_" + mpm, "authz_core", "mime", "dir"} {
		fmt.Fprintf(&b, "LoadModule %s_module %s\n", m, filepath.Join(ApacheModules, "mod_"+m+".so"))
	}
	if x.User != "" {
		fmt.Fprintf(&b, "User %s\nGroup %s\n", x.User, x.User)
	}
	workers := max(256, x.MaxConns)
	fmt.Fprintf(&b, `ServerName localhost
Listen %s
ListenBacklog 4096
DocumentRoot %s
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory %s>
    AllowOverride None
    Require all granted
</Directory>
TypesConfig /etc/mime.types
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 65
EnableSendfile On
EnableMMAP On
HostnameLookups Off
`, x.Addr, x.Docroot, x.Docroot)
	switch mpm {
	case "prefork":
		fmt.Fprintf(&b, "StartServers 16\nMinSpareServers 16\nMaxSpareServers 64\nServerLimit %d\nMaxRequestWorkers %d\nMaxConnectionsPerChild 0\n", workers, workers)
	default:
		threads := 64
		procs := (workers + threads - 1) / threads
		fmt.Fprintf(&b, "StartServers 2\nServerLimit %d\nThreadLimit %d\nThreadsPerChild %d\nMaxRequestWorkers %d\nMinSpareThreads 64\nMaxSpareThreads %d\nMaxConnectionsPerChild 0\n",
			procs, threads, threads, procs*threads, procs*threads)
	}
	return b.String()
}

func (x *external) lighttpd() string {
	var b strings.Builder
	fmt.Fprintf(&b, `server.document-root = %q
server.bind = %q
server.port = %d
server.errorlog = %q
server.max-fds = %d
server.max-connections = %d
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 65
server.network-backend = "sendfile"
server.modules = ( "mod_staticfile" )
mimetype.assign = ( "" => "application/octet-stream" )
`, x.Docroot, x.Addr.Addr().String(), x.Addr.Port(), filepath.Join(x.Dir, "error.log"),
		2*x.MaxConns+64, x.MaxConns+16)
	if x.User != "" {
		fmt.Fprintf(&b, "server.username = %q\nserver.groupname = %q\n", x.User, x.User)
	}
	return b.String()
}

// miniHTTPD returns a mini_httpd.conf: no chroot, no access log (its
// default), the pid file in x.Dir.
func (x *external) miniHTTPD() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host=%s\nport=%d\ndir=%s\nnochroot\npidfile=%s\n",
		x.Addr.Addr(), x.Addr.Port(), x.Docroot, filepath.Join(x.Dir, "mini_httpd.pid"))
	if x.User != "" {
		fmt.Fprintf(&b, "user=%s\n", x.User)
	}
	return b.String()
}

// webfsd returns webfsd's flags: foreground, IPv4, no directory listings,
// no access log (its default), the connection limit sized to the load.
func (x *external) webfsd() []string {
	args := []string{"-F", "-4", "-j", "-i", x.Addr.Addr().String(), "-p", strconv.Itoa(int(x.Addr.Port())),
		"-r", x.Docroot, "-c", strconv.Itoa(x.MaxConns + 16), "-n", "localhost", "-k", filepath.Join(x.Dir, "webfsd.pid")}
	if x.User != "" {
		args = append(args, "-u", x.User, "-g", x.User)
	}
	return args
}

// caddy returns a Caddyfile: plain HTTP on the target address only, no
// admin endpoint, no automatic HTTPS, no access log (Caddy's default).
func (x *external) caddy() string {
	return fmt.Sprintf(`{
	admin off
	auto_https off
}
http://%s:%d {
	bind %s
	root * %s
	file_server
}
`, x.Addr.Addr(), x.Addr.Port(), x.Addr.Addr(), x.Docroot)
}

// h2o returns an h2o.conf: one thread, no access log, the error log and
// pid file in x.Dir.
func (x *external) h2o() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pid-file: %s\nerror-log: %s\nnum-threads: 1\nmax-connections: %d\n",
		filepath.Join(x.Dir, "h2o.pid"), filepath.Join(x.Dir, "error.log"), x.MaxConns+64)
	if x.User != "" {
		fmt.Fprintf(&b, "user: %s\n", x.User)
	}
	fmt.Fprintf(&b, "listen:\n  host: %s\n  port: %d\nhosts:\n  default:\n    paths:\n      /:\n        file.dir: %s\n",
		x.Addr.Addr(), x.Addr.Port(), x.Docroot)
	return b.String()
}
