// Package docs holds flashbench's longer explanations as Markdown files,
// linked from the README. Its tests keep the README and these documents
// true to the tree: every relative link resolves, every document is
// linked, every cited run is archived, and the README's tables name every
// experiment, binary and architecture there is.
package docs

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// repo is the repository root, relative to this package's directory.
const repo = ".."

// readmePath is the README, relative to this package's directory.
var readmePath = filepath.Join(repo, "README.md")

// documents returns the README and every document of this folder.
func documents(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("glob docs/*.md: got %v, %v; want documents", docs, err)
	}
	return append([]string{readmePath}, docs...)
}

// read returns the text of path, failing the test if it cannot.
func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	fenceRE = regexp.MustCompile("(?ms)^```.*?^```")
	codeRE  = regexp.MustCompile("`[^`\n]*`")
	linkRE  = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)
)

// links returns the targets of the Markdown links of text, outside code.
func links(text string) []string {
	text = codeRE.ReplaceAllString(fenceRE.ReplaceAllString(text, ""), "")
	var out []string
	for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// anchors returns the GitHub anchors of the headings of a Markdown text.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(fenceRE.ReplaceAllString(text, ""), "\n") {
		h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !ok || !strings.HasPrefix(line, "#") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// TestLinks checks that every relative link of the README and the
// documents names a file or folder of the repository, and every anchor a
// heading of its Markdown file.
func TestLinks(t *testing.T) {
	root, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range documents(t) {
		text := read(t, doc)
		for _, target := range links(text) {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := doc
			if file != "" {
				path = filepath.Join(filepath.Dir(doc), file)
			}
			abs, err := filepath.Abs(path)
			if err != nil {
				t.Fatal(err)
			}
			if rel, err := filepath.Rel(root, abs); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s: link %q: got a path outside the repository, want one inside", doc, target)
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %q: got %v, want an existing file", doc, target, err)
				continue
			}
			if anchor != "" && strings.HasSuffix(path, ".md") && !anchors(read(t, path))[anchor] {
				t.Errorf("%s: link %q: got no heading #%s in %s, want one", doc, target, anchor, path)
			}
		}
	}
}

// TestDocumentsLinked checks that the README links every document of this
// folder, so that none is out of a newcomer's reach.
func TestDocumentsLinked(t *testing.T) {
	linked := map[string]bool{}
	for _, target := range links(read(t, readmePath)) {
		file, _, _ := strings.Cut(target, "#")
		linked[filepath.Clean(file)] = true
	}
	for _, doc := range documents(t)[1:] {
		if want := filepath.Join("docs", doc); !linked[want] {
			t.Errorf("README.md: got no link to %s, want one", want)
		}
	}
}

// runRE matches a run archived under results/: results/EXPERIMENT/TIMESTAMP.
var runRE = regexp.MustCompile(`results/[a-z0-9-]+/[0-9]{8}T[0-9]{6}Z`)

// TestCitedRunsArchived checks that every run the README and the documents
// cite is an archived run directory holding result JSON, so that no
// figure points at a run that is not there.
func TestCitedRunsArchived(t *testing.T) {
	cited := 0
	for _, doc := range documents(t) {
		for _, run := range runRE.FindAllString(read(t, doc), -1) {
			cited++
			jsons, err := filepath.Glob(filepath.Join(repo, run, "*.json"))
			if err != nil || len(jsons) == 0 {
				t.Errorf("%s: cites %s: got %d JSON documents there (%v), want an archived run", doc, run, len(jsons), err)
			}
		}
	}
	if cited == 0 {
		t.Errorf("README.md and docs: got no cited run, want the runs their figures come from")
	}
}

// section returns the lines of the README section under the heading that
// starts with heading, up to the next heading of that level.
func section(t *testing.T, heading string) []string {
	t.Helper()
	var out []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(read(t, readmePath)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, heading):
			in = true
		case in && strings.HasPrefix(line, "## "):
			return out
		case in:
			out = append(out, line)
		}
	}
	if !in {
		t.Fatalf("README.md: got no section %q, want one", heading)
	}
	return out
}

// firstColumn returns the backquoted names of the first column of a
// section's table, with the prefix each name must start with removed.
func firstColumn(lines []string, prefix string) []string {
	var out []string
	for _, line := range lines {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "| `") || len(cells) < 3 {
			continue
		}
		for _, m := range codeRE.FindAllString(cells[1], -1) {
			name, ok := strings.CutPrefix(strings.Trim(m, "`"), prefix)
			if ok && name != "" && !strings.HasSuffix(name, "/") {
				out = append(out, strings.Fields(name)[0])
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkSame reports the names missing from the README's table and those
// it lists that the tree does not have.
func checkSame(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(want)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("README.md %s: got no row for %s, want one (rows: %v)", what, w, got)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("README.md %s: got a row for %s, want only %v", what, g, want)
		}
	}
}

// TestExperimentsListed checks that the README's experiment table has a
// row for every built-in experiment and for nothing else.
func TestExperimentsListed(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repo, "harness", "experiments", "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("glob harness/experiments/*.toml: got %v, %v; want experiments", files, err)
	}
	var want []string
	for _, f := range files {
		want = append(want, strings.TrimSuffix(filepath.Base(f), ".toml"))
	}
	checkSame(t, "experiments", firstColumn(section(t, "## The experiments"), ""), want)
}

// mainPackages returns the folders, relative to the repository, whose Go
// files (tests aside) are package main.
func mainPackages(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != repo && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly)
		if err != nil {
			return err
		}
		if dir, _ := filepath.Rel(repo, filepath.Dir(path)); f.Name.Name == "main" && !slices.Contains(out, dir) {
			out = append(out, dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBinariesListed checks that the README's binary table has a row for
// every command `make build` puts in bin/ and names every CGI program of
// bin/cgi-bin/, and for nothing else.
func TestBinariesListed(t *testing.T) {
	lines := section(t, "## The binaries")
	var bins, cgis []string
	for _, dir := range mainPackages(t) {
		if strings.HasPrefix(dir, "cgi-apps"+string(filepath.Separator)) {
			cgis = append(cgis, filepath.Base(dir))
		} else {
			bins = append(bins, filepath.Base(dir))
		}
	}
	checkSame(t, "binaries", firstColumn(lines, "bin/"), bins)
	var cgiRow string
	for _, line := range lines {
		if strings.HasPrefix(line, "| `bin/cgi-bin/`") {
			cgiRow = strings.Split(line, "|")[1]
		}
	}
	var got []string
	for _, m := range codeRE.FindAllString(cgiRow, -1) {
		if name := strings.Trim(m, "`"); name != "bin/cgi-bin/" {
			got = append(got, name)
		}
	}
	slices.Sort(got)
	checkSame(t, "CGI programs (row bin/cgi-bin/)", got, cgis)
}

// TestArchitecturesListed builds the webserver and checks that the
// README's architecture table has a row for every architecture its --help
// offers (the list the harness reads too), and for nothing else.
func TestArchitecturesListed(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "webserver")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(gobin, "build", "-o", bin, "flashbench/servers/cmd/webserver").CombinedOutput(); err != nil {
		t.Fatalf("build webserver: %v\n%s", err, out)
	}
	help, err := exec.Command(bin, "--help").Output()
	if err != nil {
		t.Fatalf("webserver --help: %v", err)
	}
	m := regexp.MustCompile(`server architecture: ([a-z0-9_, -]+)`).FindSubmatch(help)
	if m == nil {
		t.Fatalf("webserver --help: got no architecture list in\n%s", help)
	}
	var want []string
	for _, a := range bytes.Split(m[1], []byte(",")) {
		if a = bytes.TrimSpace(a); len(a) > 0 {
			want = append(want, string(a))
		}
	}
	checkSame(t, "architectures", firstColumn(section(t, "## The architectures"), ""), want)
}
