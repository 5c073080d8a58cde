package harness

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	"flashbench/fileset"
	"flashbench/harness/topology"
)

// Externals are the real servers the harness runs as baselines, from the
// distribution's packages: nginx with one worker, Apache httpd with each of
// its three MPMs, lighttpd, and the living relatives of the HotOS paper's
// servers: mini_httpd (a process per connection, by thttpd's author: the C
// reference for forking), webfsd (one process, no caches: a thttpd-like
// SPED), Caddy (the Go server users pick) and h2o (event-driven C).
// nginx-deferred is nginx with `listen ... deferred` (TCP_DEFER_ACCEPT), as
// the flashbench servers accept by default (webserver --defer-accept).
var Externals = []string{"nginx", "nginx-deferred", "apache2-prefork", "apache2-worker", "apache2-event", "lighttpd",
	"mini_httpd", "webfsd", "caddy", "h2o"}

// externalPackages names the Debian package of a real server whose
// program is named otherwise.
var externalPackages = map[string]string{"apache2": "apache2", "mini_httpd": "mini-httpd", "webfsd": "webfs"}

// ApacheModules is where Debian's apache2 package keeps its modules.
var ApacheModules = "/usr/lib/apache2/modules"

// IsExternal reports whether arch is a real server rather than a
// `webserver --arch` architecture.
func IsExternal(arch string) bool {
	for _, e := range Externals {
		if e == arch {
			return true
		}
	}
	return false
}

// external is how one real server is configured and started.
type external struct {
	// Docroot is the file set's directory; Dir holds the generated
	// configuration, pid file and logs.
	Docroot, Dir string
	Addr         netip.AddrPort
	// User is the unprivileged user the workers run as ("" when the
	// harness is not root: they run as the harness's user).
	User string
	// MaxConns sizes connection limits and descriptor tables.
	MaxConns int
}

// lookupExternal finds the program of a real server; the error is one
// line saying how to install it.
func lookupExternal(arch string) (string, error) {
	prog := arch
	if strings.HasPrefix(arch, "apache2-") {
		prog = "apache2"
	}
	if arch == "nginx-deferred" {
		prog = "nginx"
	}
	pkg := prog
	if p, ok := externalPackages[prog]; ok {
		pkg = p
	}
	path, err := exec.LookPath(prog)
	if err != nil {
		if p := "/usr/sbin/" + prog; fileExists(p) {
			path, err = p, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s not installed (apt-get install %s)", prog, pkg)
	}
	if mpm, ok := strings.CutPrefix(arch, "apache2-"); ok {
		if so := filepath.Join(ApacheModules, "mod_mpm_"+mpm+".so"); !fileExists(so) {
			return "", fmt.Errorf("apache2: %s missing (apt-get install apache2)", so)
		}
	}
	return path, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// serverUser is the user real servers' workers run as: www-data when the
// harness is root (Apache refuses to serve as root), else none.
func serverUser() string {
	if os.Geteuid() != 0 {
		return ""
	}
	if _, err := user.Lookup("www-data"); err == nil {
		return "www-data"
	}
	return "nobody"
}

// CheckReadable reports why other users (www-data, which the real
// servers' workers run as) could not read the files of m under docroot: a
// directory on the way without o+x, or a file without o+r.
func CheckReadable(docroot string, m *fileset.Manifest) error {
	abs, err := filepath.Abs(docroot)
	if err != nil {
		return err
	}
	dirs := map[string]bool{}
	for d := abs; ; d = filepath.Dir(d) {
		dirs[d] = true
		if d == "/" {
			break
		}
	}
	for _, f := range m.Files {
		p := filepath.Join(abs, filepath.FromSlash(f.Path))
		for d := filepath.Dir(p); d != abs; d = filepath.Dir(d) {
			dirs[d] = true
		}
		if err := otherCan(docroot, p, 0o004); err != nil {
			return err
		}
	}
	for d := range dirs {
		if err := otherCan(docroot, d, 0o001); err != nil {
			return err
		}
	}
	return nil
}

func otherCan(docroot, p string, perm os.FileMode) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("document root %s: %w", docroot, err)
	}
	if fi.Mode().Perm()&perm == 0 {
		what := "readable"
		if perm == 0o001 {
			what = "traversable"
		}
		return fmt.Errorf("document root %s: %s is mode %v, not %s by other users such as www-data (chmod o+rx, or --filesets under a world-readable directory such as /var/tmp)",
			docroot, p, fi.Mode().Perm(), what)
	}
	return nil
}

// command returns the command that runs the real server arch in the
// foreground, after writing its configuration into x.Dir.
func (x *external) command(arch, prog string) (topology.Command, error) {
	var conf, name string
	var args, env []string
	switch {
	case arch == "nginx", arch == "nginx-deferred":
		name, conf = "nginx.conf", x.nginx(arch == "nginx-deferred")
		args = []string{"-p", x.Dir, "-c", filepath.Join(x.Dir, name), "-e", filepath.Join(x.Dir, "error.log")}
	case strings.HasPrefix(arch, "apache2-"):
		name, conf = "httpd.conf", x.apache(strings.TrimPrefix(arch, "apache2-"))
		args = []string{"-f", filepath.Join(x.Dir, name), "-DFOREGROUND"}
	case arch == "lighttpd":
		name, conf = "lighttpd.conf", x.lighttpd()
		args = []string{"-D", "-f", filepath.Join(x.Dir, name)}
	case arch == "mini_httpd":
		name, conf = "mini_httpd.conf", x.miniHTTPD()
		args = []string{"-D", "-C", filepath.Join(x.Dir, name)}
	case arch == "webfsd":
		// webfsd reads no configuration file: its flags are its
		// configuration, kept in the directory for the record.
		args = x.webfsd()
		name, conf = "webfsd.args", strings.Join(args, " ")+"\n"
	case arch == "caddy":
		name, conf = "Caddyfile", x.caddy()
		args = []string{"run", "--config", filepath.Join(x.Dir, name), "--adapter", "caddyfile"}
		env = []string{"HOME=" + x.Dir, "XDG_CONFIG_HOME=" + filepath.Join(x.Dir, "config"), "XDG_DATA_HOME=" + filepath.Join(x.Dir, "data")}
	case arch == "h2o":
		name, conf = "h2o.conf", x.h2o()
		args = []string{"-m", "worker", "-c", filepath.Join(x.Dir, name)}
	default:
		return topology.Command{}, errors.New("unknown real server " + arch)
	}
	if x.User != "" {
		if err := chownToUser(x.Dir, x.User); err != nil {
			return topology.Command{}, err
		}
	}
	if err := os.WriteFile(filepath.Join(x.Dir, name), []byte(conf), 0o644); err != nil {
		return topology.Command{}, fmt.Errorf("%s: write configuration: %w", arch, err)
	}
	return topology.Command{Path: prog, Args: args, Env: env}, nil
}

// chownToUser gives dir to u, so workers that dropped privileges can write
// their temporary files there.
func chownToUser(dir, u string) error {
	usr, err := user.Lookup(u)
	if err != nil {
		return fmt.Errorf("user %s: %w", u, err)
	}
	var uid, gid int
	fmt.Sscan(usr.Uid, &uid)
	fmt.Sscan(usr.Gid, &gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	return nil
}
