package amped

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHelpersFor(t *testing.T) {
	tests := []struct {
		limit int64
		want  int
	}{
		{0, DefaultHelpers},
		{-1, DefaultHelpers},
		{16 << 20, 1},
		{32 << 20, 3},
		{64 << 20, 6},
		{128 << 20, DefaultHelpers},
		{1 << 40, DefaultHelpers},
	}
	for _, tt := range tests {
		if got := HelpersFor(tt.limit); got != tt.want {
			t.Errorf("HelpersFor(%d): got %d, want %d", tt.limit, got, tt.want)
		}
	}
}

// TestMemoryLimitFrom reads limits from cgroup trees laid out like
// /sys/fs/cgroup, for v1 and v2 memberships.
func TestMemoryLimitFrom(t *testing.T) {
	tests := []struct {
		name  string
		procs string            // /proc/self/cgroup
		files map[string]string // beneath the mount root
		want  int64
	}{
		{"v1", "4:memory:/a/b\n3:blkio:/x\n", map[string]string{
			"memory/memory.limit_in_bytes":     "9223372036854771712",
			"memory/a/memory.limit_in_bytes":   "67108864",
			"memory/a/b/memory.limit_in_bytes": "134217728",
		}, 64 << 20},
		{"v1 shared hierarchy", "4:cpu,memory:/a\n", map[string]string{"memory/a/memory.limit_in_bytes": "33554432"}, 32 << 20},
		{"v1 unlimited", "4:memory:/a\n", map[string]string{"memory/a/memory.limit_in_bytes": "9223372036854771712"}, 0},
		{"v2", "0::/s/t\n", map[string]string{"s/memory.max": "max", "s/t/memory.max": "33554432"}, 32 << 20},
		{"v2 unlimited", "0::/s\n", map[string]string{"s/memory.max": "max"}, 0},
		{"hybrid prefers v1 memory", "0::/u\n5:memory:/m\n", map[string]string{"memory/m/memory.limit_in_bytes": "33554432"}, 32 << 20},
		{"no memory cgroup", "3:blkio:/x\n", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			procs := filepath.Join(dir, "cgroup")
			if err := os.WriteFile(procs, []byte(tt.procs), 0o644); err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(dir, "fs")
			for name, v := range tt.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := memoryLimitFrom(procs, root); got != tt.want {
				t.Errorf("memoryLimitFrom(%q): got %d, want %d", tt.procs, got, tt.want)
			}
		})
	}
}
