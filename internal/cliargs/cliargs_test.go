package cliargs_test

import (
	"slices"
	"testing"

	"github.com/urfave/cli/v2"

	"flashbench/internal/cliargs"
)

func TestReorder(t *testing.T) {
	flags := []cli.Flag{
		&cli.IntFlag{Name: "connections", Aliases: []string{"c"}},
		&cli.BoolFlag{Name: "quick"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}},
	}
	tests := []struct {
		name       string
		args, want []string
	}{
		{"flags first already", []string{"-c", "8", "URL"}, []string{"-c", "8", "URL"}},
		{"flag after the argument", []string{"URL", "-c", "8"}, []string{"-c", "8", "URL"}},
		{"boolean takes no value", []string{"NAME", "--quick", "MORE"}, []string{"--quick", "NAME", "MORE"}},
		{"value after =", []string{"NAME", "--out=dir", "MORE"}, []string{"--out=dir", "NAME", "MORE"}},
		{"help is boolean", []string{"NAME", "-h", "MORE"}, []string{"-h", "NAME", "MORE"}},
		{"everything after -- is positional", []string{"NAME", "--", "-c", "8"}, []string{"NAME", "-c", "8"}},
		{"a lone dash is positional", []string{"-", "-c", "8"}, []string{"-c", "8", "-"}},
		{"a flag without its value at the end", []string{"URL", "-c"}, []string{"-c", "URL"}},
		{"nothing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cliargs.Reorder(flags, tt.args); !slices.Equal(got, tt.want) {
				t.Errorf("Reorder(%q): got %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}
