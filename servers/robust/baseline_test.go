package robust_test

import (
	"bufio"
	"io"
	"maps"
	"net"
	"slices"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
)

// knownDifference is a baseline's answer to a security case where it
// departs from the conformance table, and why it does.
type knownDifference struct {
	status int
	why    string
}

// Why the baselines answer some security cases differently. None of
// these serves anything from outside the root.
const (
	whyCleaned = "the URL path is cleaned before the file system sees it: a \"..\" above the root is dropped, " +
		"leaving a name inside the root"
	whyRootRefuses = "os.Root refuses the name (a symlink out of the root, a NUL, invalid UTF-8, a name over " +
		"NAME_MAX) with an error that http.FileServer answers 500"
	whyHeaderBound  = "net/http bounds the whole header at 1 MiB plus 4 KiB (DefaultMaxHeaderBytes), not a line or a field count"
	whyBodyUnread   = "http.FileServer never reads a request body, so its size is never checked"
	whyDirRedirect  = "cleaned to the root directory, which http.FileServer redirects to its name with a slash"
	whyFastRoot     = "fasthttp.FS answers a path out of its root, through a symlink, as a missing file"
	whyFastLine     = "fasthttp reads the request line into its header buffer: a line too long for it is 431"
	whyFastBody     = "fasthttp refuses a body over MaxRequestBodySize (4 MiB) with 400"
	whyFastFields   = "fasthttp has no bound on the number of header fields, only on the buffer they fill"
	whyFastRootPage = "cleaned to the root directory, whose index.html fasthttp serves"
)

// cleanedDifferences are the answers both baselines give because they
// clean the URL path first.
var cleanedDifferences = map[string]knownDifference{
	"dotdot":                    {404, whyCleaned},
	"dotdot-encoded":            {404, whyCleaned},
	"dotdot-encoded-mixed-case": {200, whyCleaned},
	"dotdot-after-dir":          {404, whyCleaned},
	"encoded-slash-dotdot":      {404, whyCleaned},
	"encoded-dotdot-twice":      {404, whyCleaned},
	"encoded-dotdot-upper":      {404, whyCleaned},
	"half-encoded-dotdot":       {404, whyCleaned},
	"dotdot-encoded-slashes":    {404, whyCleaned},
	"dotdot-double-slashes":     {404, whyCleaned},
	"absolute-form-dotdot":      {404, whyCleaned},
	"absolute-form-encoded":     {404, whyCleaned},
}

// knownDifferences are the baselines' answers that depart from the
// conformance table, by architecture and case. A baseline must answer
// every other security case with the table's status, and these with the
// status recorded here: a new Go or fasthttp release that changes one
// fails the suite, to be looked into and recorded.
var knownDifferences = map[string]map[string]knownDifference{
	"nethttp": withCleaned(map[string]knownDifference{
		"dotdot-at-end-above-root":      {301, whyDirRedirect},
		"encoded-nul":                   {500, whyRootRefuses},
		"encoded-nul-suffix":            {500, whyRootRefuses},
		"overlong-utf8-dots":            {500, whyRootRefuses},
		"symlink-escaping-403":          {500, whyRootRefuses},
		"symlink-escaping-relative-403": {500, whyRootRefuses},
		"symlink-escaping-dir-403":      {500, whyRootRefuses},
		"request-line-too-long-414":     {500, whyRootRefuses},
		"request-line-1MiB":             {500, whyRootRefuses},
		"header-line-too-long-431":      {200, whyHeaderBound},
		"too-many-headers-431":          {200, whyHeaderBound},
		"headers-10000":                 {200, whyHeaderBound},
		"header-value-1MiB":             {200, whyHeaderBound},
		"post-too-large-413":            {200, whyBodyUnread},
		"post-100MiB":                   {200, whyBodyUnread},
	}),
	"fasthttp": withCleaned(map[string]knownDifference{
		"dotdot-at-end-above-root":      {200, whyFastRootPage},
		"symlink-escaping-403":          {404, whyFastRoot},
		"symlink-escaping-relative-403": {404, whyFastRoot},
		"symlink-escaping-dir-403":      {404, whyFastRoot},
		"request-line-too-long-414":     {431, whyFastLine},
		"request-line-1MiB":             {431, whyFastLine},
		"too-many-headers-431":          {200, whyFastFields},
		"post-too-large-413":            {400, whyFastBody},
		"post-100MiB":                   {400, whyFastBody},
	}),
}

// withCleaned adds cleanedDifferences to a baseline's own differences.
func withCleaned(own map[string]knownDifference) map[string]knownDifference {
	maps.Copy(own, cleanedDifferences)
	return own
}

// isBaseline reports whether arch is a reference server.
func isBaseline(arch string) bool { return slices.Contains(baselineArchs, arch) }

// checkBaselineAnswer checks a baseline's answer to c: the conformance
// table's status, or the one knownDifferences records. The baselines'
// own error pages (text/plain, and from net/http's parser a body ended by
// closing the connection) are theirs to choose and are not compared.
func checkBaselineAnswer(t *testing.T, e *env, c conformance.Case) {
	t.Helper()
	want := c.Status
	if d, ok := knownDifferences[e.arch][c.Name]; ok {
		want = d.status
	}
	status, body, err := answer(e.addr(), c.Request)
	switch {
	case err != nil:
		t.Errorf("request %.60q: %v, want status %d", c.Request, err, want)
	case outsideRoot(body):
		t.Errorf("request %.60q: got status %d with a file from outside the root, want nothing outside the root served",
			c.Request, status)
	case status != want:
		t.Errorf("request %.60q: got status %d, want %d (%s)", c.Request, status, want, baselineWhy(e.arch, c.Name))
	}
}

// baselineWhy says why arch's answer to the case name is what
// checkBaselineAnswer wants.
func baselineWhy(arch, name string) string {
	if d, ok := knownDifferences[arch][name]; ok {
		return "a known difference: " + d.why
	}
	return "the conformance table's; a new difference goes into knownDifferences with its reason"
}

// answer sends req on a new connection and returns the status and body
// of the answer. A body without Content-Length ends when the server
// closes the connection, as net/http's answers to requests it cannot
// parse do.
func answer(addr, req string) (int, []byte, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	c.Write([]byte(req)) // an oversized request may be answered before it is read whole
	br := bufio.NewReader(c)
	status, length, err := readHead(br)
	if err != nil {
		return 0, nil, err
	}
	if length < 0 {
		body, err := readToEnd(c, br, ioTimeout)
		return status, body, err
	}
	body := make([]byte, length)
	_, err = io.ReadFull(br, body)
	return status, body, err
}

// TestKnownDifferences checks the table itself: every entry names a
// security case and a status that differs from the conformance table's,
// with a reason.
func TestKnownDifferences(t *testing.T) {
	want := map[string]int{}
	for _, c := range securityCaseList() {
		want[c.Name] = c.Status
	}
	for arch, diffs := range knownDifferences {
		if !isBaseline(arch) {
			t.Errorf("knownDifferences: %s is not a baseline", arch)
		}
		for name, d := range diffs {
			status, ok := want[name]
			switch {
			case !ok:
				t.Errorf("knownDifferences[%s][%s]: no such security case", arch, name)
			case d.status == status:
				t.Errorf("knownDifferences[%s][%s]: got status %d, the table's own: no difference", arch, name, d.status)
			case d.why == "":
				t.Errorf("knownDifferences[%s][%s]: no reason given", arch, name)
			}
		}
	}
}
