package harness

import (
	"strings"

	"flashbench/harness/report"
)

// Variant is a `webserver --arch` architecture run with extra flags under
// a name of its own, so that an experiment can set it beside the others.
type Variant struct {
	// Arch is the webserver architecture, Args the flags it adds.
	Arch string
	Args []string
	// Description says what the variant stands for.
	Description string
	// Canned is set for a variant that answers every request with null's
	// canned response instead of the file asked for: verification does
	// not compare its bodies.
	Canned bool
	// Static is set for a variant that, in a CGI experiment, is asked for
	// a static file holding the bytes the CGI program answers (the same
	// size, the same content): its architecture's static speed beside its
	// CGI speed, in the same rounds.
	Static bool
}

// Variants are the built-in variants, by name.
var Variants = map[string]Variant{
	// The HotOS paper's thttpd was a SPED server without Flash's caches:
	// its Flash/thttpd ratios are amped against this.
	"sped-nocache": {Arch: "sped", Args: cacheFlags("none"),
		Description: "sped without its pathname, response-header and mapped-file caches: the HotOS paper's thttpd"},
	// flashlite sends bodies from --sendfile-min bytes with sendfile and
	// copies shorter ones; this one sends every body with sendfile, which
	// shows where the copy-free path starts to pay (iolite-static).
	// The floor of a process per connection in Go: each child runs the
	// smallest program that answers (null's canned response), so its cost
	// is the exec and the runtime's start alone (servers-close, beside
	// forking and mini_httpd).
	"forking-null": {Arch: "forking", Args: []string{"--child", "webserver-null-child"},
		Description: "forking whose children answer null's canned response: the exec and Go start-up floor of a process per connection",
		Canned:      true},
	"flashlite-sendfile": {Arch: "flashlite", Args: []string{"--sendfile-min", "0"},
		Description: "flashlite sending every file body with sendfile, however small"},
	// uring sending responses from 16 KiB by zero-copy sendmsg: whether
	// send_zc pays where the socket is local (iolite-static's sizes).
	"uring-zc": {Arch: "uring", Args: []string{"--send-zc-min", "16384"},
		Description: "uring sending responses of 16 KiB and more by zero-copy sendmsg (IORING_OP_SENDMSG_ZC)"},
	// uring's CGI programs over shared memory: the ring sends no file
	// ranges, so a kept body leaves by sendmsg from the shared pages, one
	// copy into the socket, like every body uring sends (iolite-cgi).
	"uring-shm": {Arch: "uring", Args: []string{"--cgi-shared-memory"},
		Description: "uring with its CGI programs answering through a shared-memory pool, sent by sendmsg straight from the shared pages"},
	// IO-Lite's persistent CGI reached 87% of Flash-Lite's static speed:
	// in a CGI experiment this one serves the CGI response's bytes from a
	// file, so the two speeds are measured in the same rounds.
	"flashlite-static": {Arch: "flashlite", Static: true,
		Description: "flashlite asked, in a CGI experiment, for a static file of the CGI response's bytes: its static speed beside its CGI"},
}

// webArch returns the webserver architecture of arch: its variant's, or
// arch itself (a base contender's, without its suffix).
func webArch(arch string) string {
	arch, _ = baseOf(arch)
	if v, ok := Variants[arch]; ok {
		return v.Arch
	}
	return arch
}

// variantArgs returns the flags arch's variant adds, nil for none.
func variantArgs(arch string) []string {
	arch, _ = baseOf(arch)
	return Variants[arch].Args
}

// BaseSuffix marks a contender run from the base build (Options.BaseBinDir):
// "sped@base" is sped as the base build's webserver serves it, measured in
// the same rounds as "sped" so that their ratio compares two builds.
const BaseSuffix = report.BaseSuffix

// baseOf returns the architecture a base contender stands for and true, or
// arch and false when it is not one.
func baseOf(arch string) (string, bool) {
	return strings.CutSuffix(arch, BaseSuffix)
}

// withBase returns archs with each webserver architecture followed by its
// base contender (real servers are the same program in both builds).
func withBase(archs []string) []string {
	var out []string
	for _, a := range archs {
		out = append(out, a)
		if _, isBase := baseOf(a); !isBase && !IsExternal(a) {
			out = append(out, a+BaseSuffix)
		}
	}
	return out
}
