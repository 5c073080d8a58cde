// Package schematest validates documents against the JSON Schemas of
// package results with a full draft 2020-12 validator, for the tests of
// the packages that write those documents.
package schematest

import (
	"bytes"
	"fmt"
	"os"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"flashbench/results"
)

// IDs of results.Schemas.
const (
	Result   = "urn:flashbench:results:schema:1"
	Run      = "urn:flashbench:results:run:1"
	Soak     = "urn:flashbench:results:soak:1"
	Stats    = "urn:flashbench:servers:stats:1"
	Syscalls = "urn:flashbench:results:syscalls:1"
)

var (
	once     sync.Once
	compiled map[string]*jsonschema.Schema
	errLoad  error
)

// load compiles every schema once, formats asserted (date-time).
func load() (map[string]*jsonschema.Schema, error) {
	once.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for id, b := range results.Schemas {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				errLoad = fmt.Errorf("schematest: %s: %w", id, err)
				return
			}
			if err := c.AddResource(id, doc); err != nil {
				errLoad = fmt.Errorf("schematest: %s: %w", id, err)
				return
			}
		}
		compiled = map[string]*jsonschema.Schema{}
		for id := range results.Schemas {
			s, err := c.Compile(id)
			if err != nil {
				errLoad = fmt.Errorf("schematest: compile %s: %w", id, err)
				return
			}
			compiled[id] = s
		}
	})
	return compiled, errLoad
}

// Validate checks the JSON document doc against the schema id (Result,
// Run, Soak, Stats or Syscalls); the error says where it breaks the schema.
func Validate(id string, doc []byte) error {
	schemas, err := load()
	if err != nil {
		return err
	}
	s, ok := schemas[id]
	if !ok {
		return fmt.Errorf("schematest: no schema %q", id)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("schematest: not JSON: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("schematest: %s: %w", id, err)
	}
	return nil
}

// ValidateFile is Validate of the document in the file at path; the
// error names the file.
func ValidateFile(id, path string) error {
	b, err := os.ReadFile(path)
	if err == nil {
		err = Validate(id, b)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
