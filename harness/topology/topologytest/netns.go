// Package topologytest holds what the tests of the topologies and of the
// harness's runs over them share: the check that skips a namespace test
// on a proven limit of the machine (not root, no ip), the namespaces a
// test process made, and an ssh lab of two hosts on this machine.
package topologytest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// NeedNetns skips a test that creates network namespaces when not root
// or without ip (iproute2).
func NeedNetns(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip not installed (iproute2)")
	}
}

// Namespaces returns the names ip netns list shows.
func Namespaces(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// OwnNamespaces returns the namespaces a topology of this process made.
func OwnNamespaces(t testing.TB) []string {
	t.Helper()
	var out []string
	prefix := "fb-" + strconv.Itoa(os.Getpid()) + "-"
	for _, n := range Namespaces(t) {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
