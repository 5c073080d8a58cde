package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"
)

// Marshal validates r and returns it as indented JSON with a final newline,
// started_at in UTC.
func Marshal(r *Result) ([]byte, error) {
	b, err := marshal(r)
	if err != nil {
		return nil, fmt.Errorf("results: marshal: %w", err)
	}
	return b, nil
}

// marshal is Marshal with errors its callers prefix.
func marshal(r *Result) ([]byte, error) {
	if r == nil {
		return nil, errors.New("nil result")
	}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("invalid result: %w", err)
	}
	c := *r
	c.StartedAt = c.StartedAt.UTC()
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Decode reads one result document from rd, checks that it is schema version
// 1 and has every required key and no unknown one, decodes it and validates
// it (see Result.Validate). The error names the offending key.
func Decode(rd io.Reader) (*Result, error) {
	r, err := decode(rd)
	if err != nil {
		return nil, fmt.Errorf("results: decode: %w", err)
	}
	return r, nil
}

// Read decodes the result document in the file at path, as Decode does.
func Read(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", path, err)
	}
	defer f.Close()
	r, err := decode(f)
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", path, err)
	}
	return r, nil
}

// decode is Decode with errors its callers prefix.
func decode(rd io.Reader) (*Result, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	// First pass: generic values, to see which keys are present (a struct
	// cannot tell a missing key from a zero) and which version this is.
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("invalid json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid json: data after the document")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a json object, got %s", jsonType(doc))
	}
	if err := checkVersion(obj); err != nil {
		return nil, err
	}
	if err := checkKeys("", reflect.TypeFor[Result](), obj); err != nil {
		return nil, err
	}
	if err := checkStartedAt(obj["started_at"]); err != nil {
		return nil, err
	}
	var r Result
	if err := strictUnmarshal(data, &r); err != nil {
		return nil, err
	}
	r.StartedAt = r.StartedAt.UTC() // one representation of UTC, for comparisons
	if err := r.validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// checkVersion rejects a document of any version but SchemaVersion before its
// keys are checked: another version's keys are not this version's.
func checkVersion(obj map[string]any) error {
	v, ok := obj["schema_version"]
	if !ok {
		return fmt.Errorf("missing required key %q", "schema_version")
	}
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("schema_version: want a number, got %s", jsonType(v))
	}
	if n.String() != fmt.Sprint(SchemaVersion) {
		return errVersion(n)
	}
	return nil
}

// checkStartedAt requires an RFC 3339 time in UTC, written with a Z.
func checkStartedAt(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("started_at: want a string, got %s", jsonType(v))
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, "Z") {
		return fmt.Errorf("started_at: want an RFC 3339 time in UTC (ending in Z), got %q", s)
	}
	return nil
}
