package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"flashbench/harness"
)

// serverCPUFlag is run's --server-cpu: the servers' CPU budget.
func serverCPUFlag() cli.Flag {
	return &cli.Float64Flag{Name: "server-cpu", Usage: fmt.Sprintf("the server's CPU budget in `CORES` of its CPU: "+
		"a cgroup quota on its whole process tree, %v period (%v..1; 1: no quota)", harness.CPUPeriod, harness.MinServerCPU),
		DefaultText: fmt.Sprintf("the experiment's server_cpu, else %v", harness.DefaultServerCPU)}
}

// serverCPU returns --server-cpu, 0 when it is not given; a value out of
// range is a usage error.
func serverCPU(c *cli.Context) (float64, error) {
	if !c.IsSet("server-cpu") {
		return 0, nil
	}
	v := c.Float64("server-cpu")
	if !(v >= harness.MinServerCPU && v <= 1) {
		return 0, cli.Exit(fmt.Sprintf("harness run: --server-cpu %v: want %v..1 (cores; 1: no quota)", v, harness.MinServerCPU), 2)
	}
	return v, nil
}
