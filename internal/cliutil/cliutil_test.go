package cliutil_test

import (
	"errors"
	"fmt"
	"testing"

	"flashbench/internal/cliutil"

	"github.com/urfave/cli/v2"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain error", errors.New("boom"), 1},
		{"exit coder", cli.Exit("bad flag", 3), 3},
		{"wrapped exit coder", fmt.Errorf("run: %w", cli.Exit("x", 2)), 2},
		{"exit coder with code 0", cli.Exit("odd", 0), 1},
		{"usage error", cliutil.UsageError(nil, errors.New("flag provided but not defined: -x"), false), cliutil.UsageExit},
		{"wrapped usage error", fmt.Errorf("webserver: %w", cliutil.UsageError(nil, errors.New("bad"), false)), cliutil.UsageExit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cliutil.ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v): got %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
