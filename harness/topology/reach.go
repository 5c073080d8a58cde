package topology

import (
	"context"
	"net"
	"net/netip"

	"flashbench/fileset"
)

// Dialer is implemented by topologies whose server address the harness
// cannot reach from its own network namespace (netns, ssh): the harness's
// own connections to the server (verification, readiness checks) go
// through the client side, as the load does.
type Dialer interface {
	// DialContext connects to address from the client side.
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// PortPicker is implemented by topologies whose server address does not
// exist in the harness's network namespace (netns).
type PortPicker interface {
	// FreePort returns a port that was free a moment ago on the server
	// address, on the server side.
	FreePort() (uint16, error)
}

// Remote is implemented by topologies whose hosts do not share this
// machine's file system (ssh). Absolute paths in the Commands a Remote
// topology starts are this machine's: each host runs the command with them
// mapped under a directory of its own, where Install and FileSet put the
// binaries and the file sets.
type Remote interface {
	// Install copies the webserver, loadgen and fileset binaries of binDir
	// to every host.
	Install(binDir string) error
	// FileSet generates the set o describes on the server host (o.Dir is
	// this machine's path, mapped), copies its manifest to every client
	// host, and returns the manifest.
	FileSet(o fileset.Options) (*fileset.Manifest, error)
	// TakeServerFile returns the content of a file the server wrote and
	// removes it, so that a later call sees only what was written since
	// (path is this machine's, mapped).
	TakeServerFile(path string) ([]byte, error)
}

// DialFunc returns how the harness connects to the topology's server.
func DialFunc(topo Topology) func(ctx context.Context, network, address string) (net.Conn, error) {
	if d, ok := topo.(Dialer); ok {
		return d.DialContext
	}
	return (&net.Dialer{}).DialContext
}

// ServerPort returns a port that was free a moment ago on the topology's
// server address.
func ServerPort(topo Topology) (uint16, error) {
	if p, ok := topo.(PortPicker); ok {
		return p.FreePort()
	}
	return freePort(topo.ServerAddr())
}

// freePort returns a port that was free a moment ago on addr.
func freePort(addr netip.Addr) (uint16, error) {
	l, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port), nil
}
