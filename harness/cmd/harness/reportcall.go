package main

import "flashbench/harness/report"

// writeReport writes the run's report.md, report.html and plots into it.
func writeReport(runDir string) (mdPath, htmlPath string, err error) {
	return report.Write(runDir)
}
