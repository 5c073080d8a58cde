// Package robust holds the robustness suite of the flashbench servers: one
// table of hostile-client and fault cases (slowloris, slow readers,
// resets, half-closes, garbage, descriptor exhaustion, files changed while
// served, killed workers and helpers, graceful shutdown, path traversal
// and oversized requests) run against the real webserver binary for every
// architecture. The suite lives in the package's tests; run it with
//
//	go test ./servers/robust/
package robust
