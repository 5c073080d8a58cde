package soak

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"flashbench/cgi-apps/content"
	"flashbench/fileset"
	"flashbench/loadgen"
)

// cgiShare is the share of requests that go to the CGI programs (the
// rest are files of the set in SPECweb99 proportions).
const cgiShare = 0.15

// cgiRequest is a CGI request whose body is known in advance: the CGI
// programs answer pure functions of the request (package content).
type cgiRequest struct {
	path string
	body []byte
}

// cgiRequests returns the CGI requests of the load: dyn with a size,
// adrot with a user, page wrapping a file of the set.
func cgiRequests(docroot string) ([]cgiRequest, error) {
	var out []cgiRequest
	for _, n := range []int{1024, 10240, 51200} {
		out = append(out, cgiRequest{"/cgi-bin/dyn?size=" + strconv.Itoa(n), content.Dyn(n)})
	}
	for u := 1; u <= 6; u++ {
		id := strconv.Itoa(u * 37)
		out = append(out, cgiRequest{"/cgi-bin/adrot?user=" + id, content.AdPage(id)})
	}
	for _, name := range []string{"dir00000/class0_4", "dir00000/class1_3", "dir00001/class0_2"} {
		data, err := os.ReadFile(filepath.Join(docroot, name))
		if err != nil {
			return nil, fmt.Errorf("soak: cgi page: %w", err)
		}
		out = append(out, cgiRequest{"/cgi-bin/page?file=" + name, content.Page(name, data)})
	}
	return out, nil
}

// mixed is the load's workload: the file set sampled the SPECweb99 way,
// and with probability cgiShare a CGI request; every body is checked.
// Each load run gets its own (loadgen formats the request bytes into
// the targets for its host).
type mixed struct {
	files   *loadgen.Manifest
	cgi     []*loadgen.Target
	classes []string
}

// newMixed builds the workload of manifest m and the CGI requests.
func newMixed(m *fileset.Manifest, reqs []cgiRequest) (*mixed, error) {
	files, err := loadgen.NewManifest(m)
	if err != nil {
		return nil, err
	}
	w := &mixed{files: files, classes: append(files.Classes(), "cgi")}
	for _, r := range reqs {
		w.cgi = append(w.cgi, &loadgen.Target{Path: r.path, Class: len(w.classes) - 1,
			Size: int64(len(r.body)), SHA256: sha256.Sum256(r.body), HasSum: true})
	}
	return w, nil
}

// Targets implements loadgen.Workload.
func (w *mixed) Targets() []*loadgen.Target {
	return append(append([]*loadgen.Target{}, w.files.Targets()...), w.cgi...)
}

// Classes implements loadgen.Workload: the file classes, then cgi.
func (w *mixed) Classes() []string { return w.classes }

// Verifiable implements loadgen.Workload.
func (w *mixed) Verifiable() bool { return true }

// NewSource implements loadgen.Workload.
func (w *mixed) NewSource(i, n int, seed uint64) loadgen.Source {
	return &mixedSource{files: w.files.NewSource(i, n, seed), cgi: w.cgi,
		r: rand.New(rand.NewPCG(seed, uint64(i)+0xc61))}
}

type mixedSource struct {
	files loadgen.Source
	cgi   []*loadgen.Target
	r     *rand.Rand
}

func (s *mixedSource) Next() *loadgen.Target {
	if s.r.Float64() < cgiShare {
		return s.cgi[s.r.IntN(len(s.cgi))]
	}
	return s.files.Next()
}
