package results_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"flashbench/harness/report"
	"flashbench/results"
)

// schemaNode is a JSON Schema object, decoded generically.
type schemaNode = map[string]any

func loadSchema(t *testing.T) schemaNode {
	t.Helper()
	var s schemaNode
	if err := json.Unmarshal(results.Schema, &s); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	return s
}

// resolve follows a "$ref": "#/$defs/name", local to root or in another
// of results.Schemas ("urn:...#/$defs/name"), and returns the node and
// the schema it is in (its own refs are local to that one).
func resolve(t *testing.T, root, n schemaNode) (schemaNode, schemaNode) {
	t.Helper()
	ref, ok := n["$ref"].(string)
	if !ok {
		return n, root
	}
	if id, frag, ok := strings.Cut(ref, "#"); ok && id != "" {
		b, known := results.Schemas[id]
		if !known {
			t.Fatalf("schema: $ref %q: no schema %s", ref, id)
		}
		root = nil
		if err := json.Unmarshal(b, &root); err != nil {
			t.Fatalf("schema %s: %v", id, err)
		}
		ref = "#" + frag
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		t.Fatalf("schema: unsupported $ref %q", ref)
	}
	def, ok := root["$defs"].(schemaNode)[name].(schemaNode)
	if !ok {
		t.Fatalf("schema: $ref %q: no such definition", ref)
	}
	return resolve(t, root, def)
}

// structKeys returns a struct's JSON keys and the required ones.
func structKeys(typ reflect.Type) (all, required []string) {
	for f := range typ.Fields() {
		tag, ok := f.Tag.Lookup("json")
		if !ok || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	slices.Sort(all)
	slices.Sort(required)
	return all, required
}

// compareSchema checks that the schema node n describes Go type typ: the same
// properties, the same required keys, no others allowed, recursively.
func compareSchema(t *testing.T, root, n schemaNode, path string, typ reflect.Type) {
	t.Helper()
	n, root = resolve(t, root, n)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ == reflect.TypeFor[time.Time]():
		if n["type"] != "string" || n["format"] != "date-time" {
			t.Errorf("schema %s: got %v, want a date-time string", path, n)
		}
	case typ.Kind() == reflect.Struct:
		if n["type"] != "object" || n["additionalProperties"] != false {
			t.Errorf("schema %s: want an object with additionalProperties false", path)
		}
		props, _ := n["properties"].(schemaNode)
		var schemaRequired []string
		for _, k := range n["required"].([]any) {
			schemaRequired = append(schemaRequired, k.(string))
		}
		slices.Sort(schemaRequired)
		all, required := structKeys(typ)
		propKeys := slices.Sorted(maps.Keys(props))
		if !slices.Equal(propKeys, all) {
			t.Errorf("schema %s properties: got %q, want %q (the Go json tags)", path, propKeys, all)
		}
		if !slices.Equal(schemaRequired, required) {
			t.Errorf("schema %s required: got %q, want %q (the Go tags without omitempty)", path, schemaRequired, required)
		}
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if p, ok := props[name].(schemaNode); ok {
				compareSchema(t, root, p, path+"."+name, f.Type)
			}
		}
	case typ.Kind() == reflect.Slice:
		if n["type"] != "array" {
			t.Errorf("schema %s: got type %v, want array", path, n["type"])
			return
		}
		compareSchema(t, root, n["items"].(schemaNode), path+"[]", typ.Elem())
	case typ.Kind() == reflect.Map:
		if n["type"] != "object" || n["properties"] != nil {
			t.Errorf("schema %s: want an object with free-form keys", path)
		}
		if elem := typ.Elem(); elem.Kind() == reflect.Struct {
			values, ok := n["additionalProperties"].(schemaNode)
			if !ok {
				t.Errorf("schema %s: want additionalProperties describing %v", path, elem)
				return
			}
			compareSchema(t, root, values, path+"{}", elem)
		}
	case typ.Kind() == reflect.String:
		if n["type"] != "string" && n["enum"] == nil {
			t.Errorf("schema %s: got type %v, want string", path, n["type"])
		}
	case typ.Kind() == reflect.Bool:
		if n["type"] != "boolean" {
			t.Errorf("schema %s: got type %v, want boolean", path, n["type"])
		}
	case typ.Kind() == reflect.Float64:
		if n["type"] != "number" {
			t.Errorf("schema %s: got type %v, want number", path, n["type"])
		}
	case typ.Kind() == reflect.Int || typ.Kind() == reflect.Int64:
		if n["type"] != "integer" && n["const"] == nil {
			t.Errorf("schema %s: got type %v, want integer", path, n["type"])
		}
	default:
		t.Errorf("schema %s: Go type %v not covered by this test", path, typ)
	}
}

func TestSchemaMatchesTypes(t *testing.T) {
	root := loadSchema(t)
	if got, want := root["$schema"], "https://json-schema.org/draft/2020-12/schema"; got != want {
		t.Errorf("$schema: got %v, want %v", got, want)
	}
	compareSchema(t, root, root, "result", reflect.TypeFor[results.Result]())
}

// TestRunSchemaMatchesTypes keeps run.schema.json in step with the Go
// type of run.json.
func TestRunSchemaMatchesTypes(t *testing.T) {
	var root schemaNode
	if err := json.Unmarshal(results.RunSchema, &root); err != nil {
		t.Fatalf("run.schema.json: %v", err)
	}
	compareSchema(t, root, root, "run", reflect.TypeFor[report.Run]())
}

func TestSchemaConstants(t *testing.T) {
	root := loadSchema(t)
	props := root["properties"].(schemaNode)
	if got := props["schema_version"].(schemaNode)["const"]; got != float64(results.SchemaVersion) {
		t.Errorf("schema_version const: got %v, want %d", got, results.SchemaVersion)
	}
	errs, _ := resolve(t, root, props["errors"].(schemaNode))
	var got []string
	for _, k := range errs["required"].([]any) {
		got = append(got, k.(string))
	}
	var want []string
	for _, c := range results.ErrorClasses() {
		want = append(want, string(c))
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors required: got %q, want %q (ErrorClasses)", got, want)
	}
	var dominant []string
	for _, k := range props["dominant_error"].(schemaNode)["enum"].([]any) {
		dominant = append(dominant, k.(string))
	}
	if !slices.Equal(dominant, want) {
		t.Errorf("dominant_error enum: got %q, want %q (ErrorClasses)", dominant, want)
	}
	for name, embedded := range map[string][]byte{"schema.json": results.Schema, "run.schema.json": results.RunSchema,
		"soak.schema.json": results.SoakSchema, "stats.schema.json": results.StatsSchema} {
		file, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file, embedded) {
			t.Errorf("the embedded schema differs from %s", name)
		}
	}
	for id, b := range results.Schemas {
		var s schemaNode
		if err := json.Unmarshal(b, &s); err != nil || s["$id"] != id {
			t.Errorf("schema %s: got $id %v (%v), want %s", id, s["$id"], err, id)
		}
	}
}
