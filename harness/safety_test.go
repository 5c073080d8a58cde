package harness_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"flashbench/harness"
	"flashbench/harness/harnesstest"
	"flashbench/harness/topology"
)

func TestCheckTarget(t *testing.T) {
	given := []netip.Addr{netip.MustParseAddr("10.1.2.3")}
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"127.5.6.7", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"198.18.0.1", true},
		{"198.19.255.254", true},
		{"198.20.0.1", false},
		{"198.17.255.255", false},
		{"10.1.2.3", true},
		{"10.1.2.4", false},
		{"8.8.8.8", false},
		{"192.168.1.1", false},
		{"0.0.0.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := harness.CheckTarget(netip.MustParseAddr(tt.addr), given)
			if (err == nil) != tt.ok {
				t.Errorf("CheckTarget(%s): got %v, want ok=%v", tt.addr, err, tt.ok)
			}
		})
	}
	if err := harness.CheckTarget(netip.Addr{}, nil); err == nil {
		t.Error("CheckTarget(invalid): got nil, want an error")
	}
}

// fenced is the local topology with the client side fenced off: it
// records every connection the harness would make and every client it
// would start, and refuses them, so a test sees where load would go
// without a packet leaving. Its server address is addr.
type fenced struct {
	*topology.Local
	addr    netip.Addr
	mu      sync.Mutex
	dials   []string
	clients int
}

func (f *fenced) ServerAddr() netip.Addr { return f.addr }

func (f *fenced) StartClient(topology.Command) (topology.Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clients++
	return nil, errors.New("fenced: no client")
}

func (f *fenced) DialContext(_ context.Context, _, address string) (net.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials = append(f.dials, address)
	return nil, errors.New("fenced: no connection")
}

// fakeWebserver writes a webserver into a new directory that offers sped
// and, started, reports that it listens on addr whatever it was told:
// what a server given its own --listen would do.
func fakeWebserver(t *testing.T, addr string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\ncase \"$1\" in --help) echo 'server architecture: sped'; exit 0;; esac\n" +
		"echo 'webserver: sped listening on " + addr + "'\nexec sleep 60\n"
	if err := os.WriteFile(filepath.Join(dir, "webserver"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fenceExperiment is one small point of sped.
func fenceExperiment(t *testing.T) *harness.Experiment {
	t.Helper()
	e, err := harness.ParseExperiment("fence.toml", []byte(`name = "fence"
description = "the harness's target check"
archs = ["sped"]
[fileset]
kind = "fixed"
count = 1
size_bytes = 100
[load]
connections = 1
duration = "100ms"
`))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestTargetsChecked runs experiments whose server address comes from the
// topology or from the server itself, with and without that address among
// the hosts given: the harness must neither connect to nor start a client
// for an address it refuses, and must go there once the address is given.
func TestTargetsChecked(t *testing.T) {
	const foreign = "203.0.113.7"
	e := fenceExperiment(t)
	tests := []struct {
		name     string
		topo     string // the topology's server address
		hosts    []netip.Addr
		runErr   string // Execute's error, for a run refused as a whole
		reason   string // the point's reason otherwise
		wantDial bool
	}{
		{"server reports a foreign address", "127.0.0.1", nil, "", "target " + foreign + ": refused", false},
		{"foreign server address given", "127.0.0.1", []netip.Addr{netip.MustParseAddr(foreign)}, "", "fenced: no connection", true},
		{"foreign topology address", foreign, nil, "run: target " + foreign + ": refused", "", false},
		{"foreign topology address given", foreign, []netip.Addr{netip.MustParseAddr(foreign)}, "", "fenced: no connection", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local := harnesstest.NewLocal(t)
			topo := &fenced{Local: local, addr: netip.MustParseAddr(tt.topo)}
			outDir := t.TempDir()
			out, err := harness.Execute(context.Background(), harness.Options{Experiment: e, Topology: topo,
				BinDir: fakeWebserver(t, foreign+":8080"), OutDir: outDir, FileSetDir: t.TempDir(), Hosts: tt.hosts})
			switch {
			case tt.runErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.runErr) {
					t.Errorf("Execute: got %v, want an error containing %q", err, tt.runErr)
				}
				if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
					t.Errorf("results: got %d entries, want none for a refused run", len(ents))
				}
			case err != nil:
				t.Fatalf("Execute: %v", err)
			case len(out.Index.Points) != 1 || out.Index.Points[0].Status != harness.StatusFailed ||
				!strings.Contains(out.Index.Points[0].Reason, tt.reason):
				t.Errorf("points: got %+v, want one failed saying %q", out.Index.Points, tt.reason)
			}
			want := 0
			if tt.wantDial {
				want = 1
			}
			if len(topo.dials) != want || topo.clients != 0 {
				t.Errorf("got connections %v and %d clients, want %d connection(s) to %s:8080 and no client",
					topo.dials, topo.clients, want, foreign)
			}
			if tt.wantDial && topo.dials[0] != foreign+":8080" {
				t.Errorf("connection: got %s, want %s:8080", topo.dials[0], foreign)
			}
		})
	}
}
