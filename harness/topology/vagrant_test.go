package topology_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVagrantfileValidates runs `vagrant validate --ignore-provider` on the
// checkout's Vagrantfile, with vagrant's state kept in a temporary
// directory. Without --ignore-provider vagrant refuses to validate on a
// machine with no VirtualBox or libvirt ("No usable default provider"),
// which is every CI machine: the provider blocks are then skipped, every
// other key (boxes, networks, synced folders, provisioners, the Ruby
// itself) is still checked. A copy with an unknown key must fail, so the
// check is known to bite.
func TestVagrantfileValidates(t *testing.T) {
	vagrant, err := exec.LookPath("vagrant")
	if err != nil {
		t.Skip("vagrant not installed (apt-get install vagrant): Vagrantfile not validated")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(root, "Vagrantfile"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := validateVagrantfile(t, vagrant, good); err != nil {
		t.Errorf("vagrant validate --ignore-provider: %v\n%s", err, out)
	}
	broken := strings.Replace(string(good), `config.vm.box = `, `config.vm.no_such_key = 1
  config.vm.box = `, 1)
	if broken == string(good) {
		t.Fatal("Vagrantfile has no config.vm.box line to break")
	}
	out, err := validateVagrantfile(t, vagrant, []byte(broken))
	if err == nil {
		t.Errorf("vagrant validate accepted a Vagrantfile with an unknown key:\n%s", out)
	} else if !strings.Contains(string(out), "no_such_key") {
		t.Errorf("vagrant validate failed on the broken copy without naming the key: %v\n%s", err, out)
	}
}

// validateVagrantfile writes content as the Vagrantfile of a fresh
// directory and validates it there.
func validateVagrantfile(t *testing.T, vagrant string, content []byte) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Vagrantfile"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(vagrant, "validate", "--ignore-provider")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VAGRANT_DOTFILE_PATH="+filepath.Join(dir, ".vagrant"),
		"VAGRANT_HOME="+filepath.Join(dir, "home"), "VAGRANT_CHECKPOINT_DISABLE=1")
	return cmd.CombinedOutput()
}
