package fileset_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"flashbench/fileset"
)

// shared holds one SPECweb99 set for the tests that only read it, built once:
// a 31-directory set is 150 MB and the machine is shared.
var shared struct {
	once sync.Once
	dir  string
	m    *fileset.Manifest
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedSPECweb99 returns the set generated with --connections 10 --seed 7.
func sharedSPECweb99(t *testing.T) (*fileset.Manifest, string) {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "fileset-test-")
		if shared.err != nil {
			return
		}
		shared.m, shared.err = fileset.Generate(fileset.Options{
			Kind: fileset.KindSPECweb99, Dir: filepath.Join(shared.dir, "set"), Seed: 7, Connections: 10})
	})
	if shared.err != nil {
		t.Fatalf("generate shared set: %v", shared.err)
	}
	return shared.m, filepath.Join(shared.dir, "set")
}
