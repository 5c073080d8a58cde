package harness_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestVagrantfileValidates runs `vagrant validate` on the checkout's
// Vagrantfile, with vagrant's state kept in a temporary directory.
func TestVagrantfileValidates(t *testing.T) {
	vagrant, err := exec.LookPath("vagrant")
	if err != nil {
		t.Skip("vagrant not installed (apt-get install vagrant): Vagrantfile not validated")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "Vagrantfile")); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cmd := exec.Command(vagrant, "validate")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VAGRANT_DOTFILE_PATH="+filepath.Join(tmp, "dot"),
		"VAGRANT_HOME="+filepath.Join(tmp, "home"), "VAGRANT_CHECKPOINT_DISABLE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("vagrant validate: %v\n%s", err, out)
	}
}
