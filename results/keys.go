package results

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// checkKeys reports the first key of doc (a document decoded into generic JSON
// values) that the Go type t does not expect, that t requires and doc lacks,
// or that is null (an optional key is omitted, not null). encoding/json alone
// would leave a missing key at its zero value and match keys
// case-insensitively; a result document must say every required thing
// explicitly, under its exact name. Free-form maps are not inspected; the
// values of a map of objects (provenance.binaries) are.
func checkKeys(path string, t reflect.Type, doc any) error {
	switch {
	case t.Kind() == reflect.Pointer:
		return checkKeys(path, t.Elem(), doc)
	case t.Kind() == reflect.Struct && t != reflect.TypeFor[time.Time]():
		obj, ok := doc.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %s", path, jsonType(doc))
		}
		return checkObject(path, t, obj)
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil // encoding/json reports the type mismatch
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if err := checkKeys(joinKey(path, k), t.Elem(), obj[k]); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice:
		arr, ok := doc.([]any)
		if !ok {
			return nil // encoding/json reports the type mismatch
		}
		for i, v := range arr {
			if err := checkKeys(fmt.Sprintf("%s[%d]", path, i), t.Elem(), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkObject checks obj's keys against struct type t's json tags.
func checkObject(path string, t reflect.Type, obj map[string]any) error {
	known := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		name, omitempty := jsonKey(t.Field(i))
		if name == "" {
			continue
		}
		known[name] = true
		key := joinKey(path, name)
		v, ok := obj[name]
		switch {
		case !ok && !omitempty:
			return fmt.Errorf("missing required key %q", key)
		case ok && v == nil:
			return fmt.Errorf("key %q is null", key)
		case ok:
			if err := checkKeys(key, t.Field(i).Type, v); err != nil {
				return err
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !known[k] {
			return fmt.Errorf("unknown key %q", joinKey(path, k))
		}
	}
	return nil
}

// jsonKey returns a field's JSON name ("" if it is not encoded) and whether
// it is optional (omitempty).
func jsonKey(f reflect.StructField) (string, bool) {
	tag, ok := f.Tag.Lookup("json")
	if !ok || tag == "-" || !f.IsExported() {
		return "", false
	}
	name, opts, _ := strings.Cut(tag, ",")
	return name, slices.Contains(strings.Split(opts, ","), "omitempty")
}

func joinKey(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonType names the JSON type of a generically decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	default:
		return "number"
	}
}
