package topology_test

import (
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"flashbench/harness/topology"
	"flashbench/harness/topology/topologytest"
)

// TestNetns sets up the netns topology with a rate limit, starts a server
// in the server namespace on a port FreePort found there, fetches from it
// through the client namespace (DialContext), and checks that Close
// removes both namespaces and with them the link.
func TestNetns(t *testing.T) {
	topologytest.NeedNetns(t)
	topo, err := topology.NewNetns("100mbit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	if got := topologytest.OwnNamespaces(t); len(got) != 2 {
		t.Errorf("got namespaces %v, want the server's and the client's", got)
	}
	qdisc, err := exec.Command("ip", "netns", "exec", topo.ClientNS, "tc", "qdisc", "show").Output()
	if err != nil || !strings.Contains(string(qdisc), "tbf") || !strings.Contains(string(qdisc), "100Mbit") {
		t.Errorf("client qdiscs: got %q, %v; want a 100Mbit tbf", qdisc, err)
	}
	port, err := topo.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	url := startNull(t, topo, port)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: topo.DialContext}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s from the client namespace: %v", url, err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Server") != "flashbench-null" {
		t.Errorf("GET %s: got %s from %q, want 200 from flashbench-null", url, resp.Status, resp.Header.Get("Server"))
	}
	if err := topo.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if left := topologytest.OwnNamespaces(t); len(left) > 0 {
		t.Errorf("got namespaces %v left after Close, want none", left)
	}
}

func TestNetnsRejectsBadRate(t *testing.T) {
	topologytest.NeedNetns(t)
	for _, rate := range []string{"fast", "100 mbit", "1mbit; reboot"} {
		if topo, err := topology.NewNetns(rate); err == nil {
			topo.Close()
			t.Errorf("NewNetns(%q): got no error, want one", rate)
		}
	}
	if left := topologytest.OwnNamespaces(t); len(left) > 0 {
		t.Errorf("got namespaces %v, want none", left)
	}
}

// TestSweepNetns checks that a namespace left by a harness process that
// no longer exists is removed, and one of a live process is kept.
func TestSweepNetns(t *testing.T) {
	topologytest.NeedNetns(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	gone := "fb-" + strconv.Itoa(dead.Process.Pid) + "-srv"
	live := "fb-" + strconv.Itoa(os.Getpid()) + "-sweeptest"
	for _, n := range []string{gone, live} {
		if out, err := exec.Command("ip", "netns", "add", n).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", n, err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", n).Run() })
	}
	removed, err := topology.SweepNetns()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != gone {
		t.Errorf("got removed %v, want [%s]", removed, gone)
	}
	list := topologytest.Namespaces(t)
	if slices.Contains(list, gone) || !slices.Contains(list, live) {
		t.Errorf("got namespaces %v, want %s gone and %s kept", list, gone, live)
	}
}
