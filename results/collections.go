package results

import (
	"bytes"
	"encoding/json"
)

// List is a JSON array that is never null: a nil List encodes as [] and an
// empty array decodes as nil, so every document has the array a reader
// expects and a Result survives a write/read round trip unchanged.
type List[T any] []T

// MarshalJSON encodes l, writing [] for a nil List.
func (l List[T]) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]T(l))
}

// UnmarshalJSON decodes a JSON array, rejecting unknown object keys in its
// elements; an empty array becomes nil.
func (l *List[T]) UnmarshalJSON(data []byte) error {
	var v []T
	if err := strictUnmarshal(data, &v); err != nil {
		return err
	}
	if len(v) == 0 {
		v = nil
	}
	*l = v
	return nil
}

// Map is a JSON object with string keys that is never null: a nil Map
// encodes as {} and an empty object decodes as nil.
type Map[V any] map[string]V

// MarshalJSON encodes m, writing {} for a nil Map.
func (m Map[V]) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]V(m))
}

// UnmarshalJSON decodes a JSON object; an empty object becomes nil.
func (m *Map[V]) UnmarshalJSON(data []byte) error {
	var v map[string]V
	if err := strictUnmarshal(data, &v); err != nil {
		return err
	}
	if len(v) == 0 {
		v = nil
	}
	*m = v
	return nil
}

// Object is a free-form JSON object (config.extra, server.stats). Its numbers
// decode as float64, as encoding/json decodes any number into an interface.
type Object = Map[any]

// strictUnmarshal decodes data into v, rejecting keys v has no field for.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
