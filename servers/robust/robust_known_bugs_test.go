//go:build knownbugs

package robust_test

import (
	"slices"
	"testing"
)

// TestKnownBugs runs the cases of the table that fail today on some
// architectures (robustCase.knownBugs), on exactly those architectures,
// and the escapes out of the root that net/http's http.Dir allows. Each
// failure here is a bug to fix; once fixed, its entry goes and the case
// runs in TestRobust again.
func TestKnownBugs(t *testing.T) {
	for _, c := range cases() {
		for _, arch := range append(slices.Clone(flashArchs), baselineArchs...) {
			bug := c.knownBugs[arch]
			if bug == "" {
				continue
			}
			t.Run(arch+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				t.Log(bug)
				runCase(t, arch, c)
			})
		}
	}
}
