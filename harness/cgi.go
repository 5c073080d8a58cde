package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"flashbench/cgi-apps/content"
	"flashbench/harness/topology"
	"flashbench/internal/atomicfile"
)

// KindCGI is the file set kind of CGI experiments: no files are generated
// and every request asks /cgi-bin/PROGRAM?size=SIZE_BYTES of the
// webserver's persistent CGI programs.
const KindCGI = "cgi"

// CGIProgram is the default (and, for now, the only) program of the cgi
// kind: dyn answers size=N with N bytes of content.Dyn.
const CGIProgram = "dyn"

func (f *FileSet) validateCGI() error {
	switch {
	case f.SizeBytes <= 0 || f.SizeBytes > content.MaxSize:
		return fmt.Errorf("size_bytes: %d, want 1..%d for cgi", f.SizeBytes, content.MaxSize)
	case f.Count != 0 || f.Connections != 0:
		return errors.New("count and connections: not used by cgi")
	case f.Program != "" && f.Program != CGIProgram:
		return fmt.Errorf("program %q: want %s (the program answering size=N)", f.Program, CGIProgram)
	}
	return nil
}

// cgiTarget returns the request target of a cgi file set:
// "/cgi-bin/dyn?size=51200".
func cgiTarget(fs FileSet) string {
	return "/cgi-bin/" + url.PathEscape(fs.Program) + "?size=" + strconv.FormatInt(fs.SizeBytes, 10)
}

// staticCGITarget returns the request target of a Static variant at a cgi
// point: the file writeStaticCGI writes, "/dyn-51200.txt".
func staticCGITarget(fs FileSet) string {
	return "/" + staticCGIName(fs)
}

func staticCGIName(fs FileSet) string {
	return fs.Program + "-" + strconv.FormatInt(fs.SizeBytes, 10) + ".txt"
}

// writeStaticCGI writes into dir the file a Static variant is asked for:
// the bytes the CGI program answers at fs's size.
func writeStaticCGI(dir string, fs FileSet) error {
	path := filepath.Join(dir, staticCGIName(fs))
	if err := atomicfile.WriteFile(path, content.Dyn(int(fs.SizeBytes))); err != nil {
		return fmt.Errorf("static twin of %s: %w", cgiTarget(fs), err)
	}
	return os.Chmod(path, 0o644)
}

// cgiUnavailable says why arch cannot answer a cgi point, or "": and why
// a Static variant, the static twin of a CGI response, has nothing to
// answer outside a cgi experiment.
func (r *runner) cgiUnavailable(arch string) string {
	if r.e.FileSet.Kind != KindCGI {
		if base, _ := baseOf(arch); Variants[base].Static {
			return "serves the static twin of a CGI response: in cgi experiments only"
		}
		return ""
	}
	if IsExternal(arch) {
		return "no persistent CGI: real servers are compared on static files only"
	}
	if _, remote := r.o.Topology.(topology.Remote); remote {
		return "CGI programs are installed on the local and netns topologies only"
	}
	return ""
}

// verifyCGI fetches target (a cgiTarget, or a static twin's) once from
// base and compares the body with content.Dyn of the file set's size.
// With checkBody false (the null server) only the status is checked.
func verifyCGI(dial func(ctx context.Context, network, addr string) (net.Conn, error), base, target string, fs FileSet, checkBody bool) error {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: dial}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(base + target)
	if err != nil {
		return fmt.Errorf("verify %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, fs.SizeBytes+1))
	if err != nil {
		return fmt.Errorf("verify %s: body: %w", target, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("verify %s: got status %d, want 200", target, resp.StatusCode)
	}
	if !checkBody {
		return nil
	}
	if n := int64(len(body)); n > fs.SizeBytes {
		return fmt.Errorf("verify %s: got more than %d body bytes, want %d", target, fs.SizeBytes, fs.SizeBytes)
	} else if n < fs.SizeBytes {
		return fmt.Errorf("verify %s: got %d body bytes, want %d", target, n, fs.SizeBytes)
	}
	if want := content.Dyn(int(fs.SizeBytes)); !bytes.Equal(body, want) {
		i := 0
		for i < len(body) && body[i] == want[i] {
			i++
		}
		return fmt.Errorf("verify %s: body differs from content.Dyn at byte %d", target, i)
	}
	return nil
}
