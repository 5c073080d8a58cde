package robust_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"flashbench/servers/httpcore/conformance"
)

// hardLinked is the content of a file outside the root that the root
// hard-links to. A hard link is the same inode under a second name, so the
// file IS inside the root by definition: it is served, as expected. Only
// someone who can write the root (an administrator) can create one, and
// no server can tell the two names apart.
const hardLinked = "flashbench robust: a file hard-linked into the root\n"

// passwdMarker is what /etc/passwd holds on every Linux system.
const passwdMarker = "root:x:0:0:"

// conformanceSecurity names the conformance cases that concern
// confinement to the root and oversized requests.
var conformanceSecurity = []string{
	"dotdot", "dotdot-encoded", "dotdot-encoded-mixed-case", "dotdot-after-dir", "dotdot-at-end-above-root",
	"encoded-nul", "nul-in-target", "double-encoded-dotdot-404", "backslash-not-separator-404",
	"double-slash-resolves", "symlink-escaping-403", "symlink-escaping-relative-403", "symlink-escaping-dir-403",
	"absolute-form", "request-line-too-long-414", "header-line-too-long-431", "too-many-headers-431",
	"post-too-large-413",
}

// symlinkCases are the cases whose request follows a symlink out of the
// root.
var symlinkCases = []string{"symlink-escaping-403", "symlink-escaping-relative-403", "symlink-escaping-dir-403"}

// securityRequests are traversal in every spelling, NUL, absolute-form
// targets and oversized requests, beyond the conformance table: what each
// must get follows the table's rules (a ".." above the root is 400, an
// escape that decodes to no path segment ".." is an ordinary missing file,
// 404; limits give 413, 414, 431).
func securityRequests() []conformance.Case {
	bad := func(name, target string, status int) conformance.Case {
		return conformance.Case{Name: name, Request: get1(target), Status: status}
	}
	var many strings.Builder
	for i := range 10000 {
		many.WriteString("X-F" + itoa(i) + ": v\r\n")
	}
	const h = "Host: localhost\r\n"
	return []conformance.Case{
		bad("encoded-slash-dotdot", "/%2e%2e%2f%2e%2e%2fetc/passwd", 400),
		bad("encoded-dotdot-twice", "/%2e%2e/%2e%2e/etc/passwd", 400),
		bad("encoded-dotdot-upper", "/%2E%2E/%2E%2E/etc/passwd", 400),
		bad("half-encoded-dotdot", "/.%2e/.%2e/etc/passwd", 400),
		bad("dotdot-encoded-slashes", "/..%2f..%2fetc%2fpasswd", 400),
		bad("dotdot-double-slashes", "/..//..//etc/passwd", 400),
		bad("dotdot-encoded-backslash", "/..%5c..%5cetc%5cpasswd", 404),
		bad("backslash-encoded-lead", "/%5c..%5c..%5cetc%5cpasswd", 404),
		bad("overlong-utf8-dots", "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", 404),
		bad("double-encoded-slash", "/%252e%252e%252f%252e%252e%252fetc/passwd", 404),
		bad("double-slash-root", "//etc/passwd", 404),
		bad("encoded-nul-suffix", "/page.html%00", 400),
		bad("absolute-form-dotdot", "http://evil/../../etc/passwd", 400),
		bad("absolute-form-encoded", "http://evil/%2e%2e/%2e%2e/etc/passwd", 400),
		{Name: "hard-link-out-of-root", Request: get1("/hard.txt"), Status: 200, BodyContains: hardLinked},
		{Name: "request-line-1MiB", Request: get1("/" + strings.Repeat("a", 1<<20)), Status: 414},
		{Name: "headers-10000", Request: "GET /page.html HTTP/1.1\r\n" + h + many.String() + "\r\n", Status: 431},
		{Name: "header-value-1MiB", Request: "GET /page.html HTTP/1.1\r\n" + h + "X-Big: " +
			strings.Repeat("v", 1<<20) + "\r\n\r\n", Status: 431},
		{Name: "post-100MiB", Request: "POST /page.html HTTP/1.1\r\n" + h + "Content-Length: 104857600\r\n\r\n", Status: 413},
	}
}

// securityCases: every architecture, the baselines included.
func securityCases() []robustCase {
	return []robustCase{{name: "security", archs: allArchs(), run: testSecurity}}
}

// securityCaseList is the conformance table's security cases, then
// securityRequests.
func securityCaseList() []conformance.Case {
	var cs []conformance.Case
	for _, c := range conformance.Cases {
		if slices.Contains(conformanceSecurity, c.Name) {
			cs = append(cs, c)
		}
	}
	return append(cs, securityRequests()...)
}

// testSecurity runs the security requests, one subtest each. A flashbench
// architecture must answer as the conformance table says; a baseline with
// the table's status or the one knownDifferences records for it. No
// response may ever contain the secret outside the root or /etc/passwd,
// on any architecture, and every one must serve the next request.
func testSecurity(t *testing.T, e *env) {
	linkHard(t, e.root)
	for _, c := range securityCaseList() {
		t.Run(c.Name, func(t *testing.T) {
			if isBaseline(e.arch) {
				checkBaselineAnswer(t, e, c)
			} else {
				checkSecurity(t, e, c)
			}
			mustServe(t, e.addr(), "after request "+c.Name)
		})
	}
}

// checkSecurity sends c's request and checks its first answer against
// the conformance table.
func checkSecurity(t *testing.T, e *env, c conformance.Case) {
	t.Helper()
	resp, err := roundTrip(e.addr(), c.Request, false)
	if err != nil {
		t.Errorf("request %.60q: %v, want status %d", c.Request, err, c.Status)
		return
	}
	if outsideRoot(resp.Body) {
		t.Errorf("request %.60q: got status %d with a file from outside the root, want nothing outside the root served",
			c.Request, resp.Status)
	}
	for _, p := range conformance.Check(e.root, c.Wants()[0], resp) {
		t.Errorf("request %.60q: %s", c.Request, p)
	}
}

// outsideRoot reports whether body holds the secret outside the root or
// /etc/passwd.
func outsideRoot(body []byte) bool {
	return bytes.Contains(body, []byte(conformance.Secret)) || bytes.Contains(body, []byte(passwdMarker))
}

// linkHard creates hard.txt in root, a hard link to a file in another
// directory.
func linkHard(t *testing.T, root string) {
	t.Helper()
	outside := filepath.Join(t.TempDir(), "hard-target.txt")
	if err := os.WriteFile(outside, []byte(hardLinked), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(outside, filepath.Join(root, "hard.txt")); err != nil {
		t.Skipf("hard link across %s and %s: %v", outside, root, err)
	}
}

// itoa formats a small non-negative n.
func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
