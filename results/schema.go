package results

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of a version 1 result document,
// for tools outside Go. Decode enforces the same rules and more (see
// Result.Validate); a test keeps the two in step.
//
//go:embed schema.json
var Schema []byte
