package results

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of a version 1 result document,
// for tools outside Go. Decode enforces the same rules and more (see
// Result.Validate); a test keeps the two in step.
//
//go:embed schema.json
var Schema []byte

// RunSchema is the JSON Schema of a harness run's index, run.json (see
// flashbench/harness/report.Run). Its provenance is the result schema's:
// a validator resolves it by the result schema's $id.
//
//go:embed run.schema.json
var RunSchema []byte

// SoakSchema is the JSON Schema of a soak run's report, soak.json (see
// flashbench/harness/soak.Report). Its provenance, host load and error
// classes are the result schema's.
//
//go:embed soak.schema.json
var SoakSchema []byte

// StatsSchema is the JSON Schema of the stats file a webserver writes
// (--stats-file), which a result document copies into server.stats.
//
//go:embed stats.schema.json
var StatsSchema []byte

// SyscallsSchema is the JSON Schema of a harness run's system call count
// of one contender, syscalls/<contender>.json (Syscalls). Its provenance is
// the result schema's.
//
//go:embed syscalls.schema.json
var SyscallsSchema []byte

// Schemas are every schema of this package by its $id, so that a
// validator can resolve the references between them.
var Schemas = map[string][]byte{
	"urn:flashbench:results:schema:1":   Schema,
	"urn:flashbench:results:run:1":      RunSchema,
	"urn:flashbench:results:soak:1":     SoakSchema,
	"urn:flashbench:servers:stats:1":    StatsSchema,
	"urn:flashbench:results:syscalls:1": SyscallsSchema,
}
