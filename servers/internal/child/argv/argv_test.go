package argv_test

import (
	"bytes"
	"strings"
	"testing"

	"flashbench/servers/internal/child/argv"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		args         []string
		config       string
		code         int
		done         bool
		stdout, errs string
	}{
		{nil, "", 0, false, "", ""},
		{[]string{"--config", `{"a":1}`}, `{"a":1}`, 0, false, "", ""},
		{[]string{"--help"}, "", 0, true, "prog --config JSON", ""},
		{[]string{"-h"}, "", 0, true, "help text", ""},
		{[]string{"--no-such-flag"}, "", argv.UsageExit, true, "", "prog: bad usage: flag provided but not defined: --no-such-flag"},
		{[]string{"--config"}, "", argv.UsageExit, true, "", "prog: bad usage: want --config JSON"},
		{[]string{"--config", "{}", "x"}, "", argv.UsageExit, true, "", "prog: bad usage: want --config JSON"},
	} {
		var out, errs bytes.Buffer
		config, code, done := argv.Parse("prog", "help text", tt.args, &out, &errs)
		if config != tt.config || code != tt.code || done != tt.done ||
			!strings.Contains(out.String(), tt.stdout) || (tt.stdout == "") != (out.Len() == 0) ||
			!strings.HasPrefix(errs.String(), tt.errs) || (tt.errs == "") != (errs.Len() == 0) || strings.Count(errs.String(), "\n") > 1 {
			t.Errorf("Parse(%q): got %q, %d, %v, stdout %q, stderr %q; want %q, %d, %v, stdout with %q, stderr from %q",
				tt.args, config, code, done, out.String(), errs.String(), tt.config, tt.code, tt.done, tt.stdout, tt.errs)
		}
	}
}
