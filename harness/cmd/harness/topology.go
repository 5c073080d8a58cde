package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/urfave/cli/v2"

	"flashbench/harness/topology"
)

// topologyFlags are run's flags that choose and shape the topology.
func topologyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "topology", Value: "local", Usage: "where server and client run: local, netns (two network namespaces, root) or ssh"},
		&cli.StringFlag{Name: "rate", Usage: "netns: limit each end of the link to `RATE` (tc tbf), e.g. 100mbit"},
		&cli.StringFlag{Name: "server-host", Usage: "ssh: the `HOST` that runs the server"},
		&cli.StringFlag{Name: "client-hosts", Usage: "ssh: comma-separated `HOSTS` that run the load generator (merged)"},
		&cli.StringFlag{Name: "server-addr", Usage: "ssh: the `ADDR` the clients reach the server at (default: the server host's address)"},
		&cli.StringFlag{Name: "ssh-config", Usage: "ssh: ssh_config `FILE` (ssh -F), e.g. from vagrant ssh-config"},
		&cli.StringFlag{Name: "ssh-user", Usage: "ssh: remote `USER` (ssh -l)"},
	}
}

// newTopology sets up the topology the flags name and returns it with
// the hosts given to the harness, which it may send load to.
func newTopology(c *cli.Context) (topology.Topology, []netip.Addr, error) {
	switch t := c.String("topology"); t {
	case "local":
		topo, err := topology.NewLocal()
		return topo, []netip.Addr{}, err
	case "netns":
		topo, err := topology.NewNetns(c.String("rate"))
		return topo, []netip.Addr{}, err
	case "ssh":
		o := topology.SSHOptions{ServerHost: c.String("server-host"), ConfigFile: c.String("ssh-config"), User: c.String("ssh-user")}
		for _, h := range strings.Split(c.String("client-hosts"), ",") {
			if h = strings.TrimSpace(h); h != "" {
				o.ClientHosts = append(o.ClientHosts, h)
			}
		}
		if o.ServerHost == "" || len(o.ClientHosts) == 0 {
			return nil, nil, errors.New("harness run: --topology ssh needs --server-host and --client-hosts")
		}
		if a := c.String("server-addr"); a != "" {
			addr, err := netip.ParseAddr(a)
			if err != nil {
				return nil, nil, fmt.Errorf("harness run: --server-addr: %w", err)
			}
			o.ServerAddr = addr
		}
		topo, err := topology.NewSSH(o)
		if err != nil {
			if topo != nil {
				topo.Close()
			}
			return nil, nil, err
		}
		// The server host was given explicitly: its address may be targeted.
		return topo, []netip.Addr{topo.ServerAddr()}, nil
	default:
		return nil, nil, fmt.Errorf("harness run: topology %q: want local, netns or ssh", t)
	}
}
