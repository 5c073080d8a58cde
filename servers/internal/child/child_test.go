package child

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// notCarried are the fields a child does not get in its configuration:
// it makes its own counters and CGI face.
var notCarried = map[string]bool{"ServeOptions.Stats": true, "ServeOptions.CGI": true, "Options.Stats": true}

// fill sets every field of v that a child gets to a value other than
// its zero value, and fails on a field that JSON would not carry.
func fill(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name := v.Type().Name() + "." + f.Name
			if notCarried[name] {
				continue
			}
			if !f.IsExported() || f.Tag.Get("json") == "" || f.Tag.Get("json") == "-" {
				t.Fatalf("%s: a child would not get this field (unexported, untagged or json:\"-\"); carry it or list it in notCarried", name)
			}
			fill(t, v.Field(i), n)
		}
	case reflect.String:
		*n++
		v.SetString("s" + strings.Repeat("x", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		*n++
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		*n++
		v.SetUint(uint64(*n))
	case reflect.Float64, reflect.Float32:
		*n++
		v.SetFloat(float64(*n) + 0.5)
	default:
		t.Fatalf("%s: kind %s: teach fill to set it", v.Type(), v.Kind())
	}
}

// TestConfigRoundTrip checks that a forking child or prefork worker
// gets every field of the parent's configuration: a field added to
// httpcore.Config, httpconn.ServeOptions or cgi.Options reaches the child
// or fails here.
func TestConfigRoundTrip(t *testing.T) {
	var want Config
	n := 0
	fill(t, reflect.ValueOf(&want).Elem(), &n)
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("webserver-child", []string{ConfigFlag, string(b)})
	if err != nil {
		t.Fatalf("Parse of %s: %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip through %s:\ngot  %+v\nwant %+v", b, got, want)
	}
	for _, bad := range [][]string{nil, {"--root", "/srv"}, {ConfigFlag, "{"}, {ConfigFlag, string(b), "extra"}} {
		if _, err := Parse("webserver-child", bad); err == nil {
			t.Errorf("Parse(%q): got nil error, want one", bad)
		}
	}
}
