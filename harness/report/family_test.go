package report_test

import (
	"testing"

	"flashbench/harness/report"
)

func TestFamilyOf(t *testing.T) {
	for _, tt := range []struct {
		arch string
		want report.Family
	}{
		{"sped", report.EventDriven},
		{"sped-nocache", report.EventDriven},
		{"amped", report.EventDriven},
		{"flashlite", report.EventDriven},
		{"flashlite-sendfile", report.EventDriven},
		{"uring", report.EventDriven},
		{"amped@base", report.EventDriven},
		{"threaded", report.Threads},
		{"threaded@base", report.Threads},
		{"forking", report.Processes},
		{"prefork", report.Processes},
		{"nethttp", report.GoBaselines},
		{"fasthttp", report.GoBaselines},
		{"null", report.LimitReference},
		{"forking-null", report.LimitReference},
		{"null@base", report.LimitReference},
		{"nginx", report.RealServers},
		{"nginx-deferred", report.RealServers},
		{"apache2-prefork", report.RealServers},
		{"apache2-event", report.RealServers},
		{"lighttpd", report.RealServers},
		{"mini_httpd", report.RealServers},
		{"webfsd", report.RealServers},
		{"caddy", report.RealServers},
		{"h2o", report.RealServers},
		{"spedx", report.RealServers},
	} {
		t.Run(tt.arch, func(t *testing.T) {
			if got := report.FamilyOf(tt.arch); got != tt.want {
				t.Errorf("FamilyOf(%q): got %v, want %v", tt.arch, got, tt.want)
			}
		})
	}
}

// TestFamilyColor checks that a family shares one colour and that a base
// contender's is its architecture's, lighter.
func TestFamilyColor(t *testing.T) {
	rgb := func(arch string) [3]uint32 {
		r, g, b, _ := report.FamilyColor(arch).RGBA()
		return [3]uint32{r, g, b}
	}
	if rgb("sped") != rgb("amped") {
		t.Errorf("sped and amped: got colours %v and %v, want their family's one", report.FamilyColor("sped"), report.FamilyColor("amped"))
	}
	if rgb("sped") == rgb("threaded") || rgb("nginx") == rgb("nethttp") {
		t.Errorf("families share a colour: sped %v, threaded %v, nginx %v, nethttp %v", report.FamilyColor("sped"),
			report.FamilyColor("threaded"), report.FamilyColor("nginx"), report.FamilyColor("nethttp"))
	}
	own, base := rgb("sped"), rgb("sped@base")
	if base[0]+base[1]+base[2] <= own[0]+own[1]+own[2] {
		t.Errorf("sped@base: got %v, want lighter than sped's %v", report.FamilyColor("sped@base"), report.FamilyColor("sped"))
	}
}
