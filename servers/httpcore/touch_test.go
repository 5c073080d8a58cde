package httpcore_test

import (
	"os"
	"runtime/debug"
	"testing"

	"flashbench/servers/httpcore"
)

func TestTouchTruncated(t *testing.T) {
	root := t.TempDir()
	page := os.Getpagesize()
	p := writeFile(t, root, "big", make([]byte, 4*page))
	for _, cfg := range []httpcore.Config{{Root: root}, {Root: root, NoMmapCache: true}} {
		c := newCore(t, cfg)
		var plan httpcore.Plan
		c.Respond(get("/big"), &plan)
		if plan.Kind != httpcore.BodyMapped {
			t.Fatalf("got kind %d, want mapped", plan.Kind)
		}
		b := plan.Chunks[0].Bytes()
		if err := httpcore.Touch(b); err != nil {
			t.Fatalf("Touch before truncation: %v", err)
		}
		must(t, os.Truncate(p, 0))
		if err := httpcore.Touch(b); err == nil {
			t.Fatalf("Touch after truncation: got nil, want a fault error")
		}
		plan.Release()
		must(t, os.WriteFile(p, make([]byte, 4*page), 0o644))
	}
	if old := debug.SetPanicOnFault(false); old {
		t.Fatalf("Touch left SetPanicOnFault on")
	}
	if err := httpcore.Touch(nil); err != nil {
		t.Fatalf("Touch(nil): %v", err)
	}
}

func TestTouchRestoresSetting(t *testing.T) {
	debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(false)
	if err := httpcore.Touch(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if old := debug.SetPanicOnFault(true); !old {
		t.Fatalf("Touch did not restore SetPanicOnFault(true)")
	}
}
