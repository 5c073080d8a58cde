// Package topology is where the harness runs the server and the load
// generator and how they reach each other: a Topology starts a Command on
// the server side or the client side, pinned to that side's CPUs, and
// returns a Process the harness can signal, kill, wait for and measure
// (Usage: CPU time and peak memory of its whole process tree).
//
// Local (the default) runs both sides on this machine. Netns (root) puts
// the server and the client in network namespaces fb-PID-srv and
// fb-PID-cli joined by a veth pair (198.18.0.1 and 198.18.0.2), optionally
// rate-limited with tbf; Close deletes them, and namespaces of harness
// runs that no longer exist are swept at the next start. SSH runs the
// server on one host and the load generator on one or more others over
// OpenSSH (Vagrant's two VMs through the ssh_config `vagrant ssh-config`
// writes): binaries are copied to a temporary directory on each host, the
// file set is generated on the server host, the clients share the load
// out and start together, and their results are merged losslessly.
//
// What the harness needs beyond starting processes, a topology offers
// through small interfaces: Dialer (the harness's own connections to the
// server go through the client side), PortPicker (a free port on the
// server side) and Remote (hosts that do not share this machine's file
// system). DialFunc and ServerPort pick the topology's way or this
// machine's. A process joins its cgroups (Command.CgroupProcs) before its
// program runs, on this machine only; the cgroups themselves are the
// harness's.
package topology
