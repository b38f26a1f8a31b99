package hadooprun

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/fleettest"
)

// TestBootstrapChecksSHA256 runs scripts/emr-bootstrap.sh with a stand-in
// `aws` that serves s3://tools/ from a directory laid out like `make dist`'s
// output: it installs the binaries when the tarball matches SHA256SUMS and
// refuses a tarball that does not.
func TestBootstrapChecksSHA256(t *testing.T) {
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64"}[runtime.GOARCH]
	if arch == "" {
		t.Skipf("no s3pipe dist for %s", runtime.GOARCH)
	}
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	name := "s3pipe-v9-linux-" + arch
	stage := filepath.Join(dir, "stage", name)
	if err := os.MkdirAll(stage, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range fleettest.Tools {
		write(t, filepath.Join(stage, tool), "#!/bin/sh\necho "+tool+" v9\n")
		os.Chmod(filepath.Join(stage, tool), 0o755)
	}
	os.MkdirAll(dist, 0o755)
	tarball := filepath.Join(dist, name+".tar.gz")
	if out, err := exec.Command("tar", "-C", filepath.Join(dir, "stage"), "-czf", tarball, name).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(tarball)
	sum := sha256.Sum256(data)
	write(t, filepath.Join(dist, "SHA256SUMS"), fmt.Sprintf("%s  %s.tar.gz\n", hex.EncodeToString(sum[:]), name))
	// aws s3 cp --only-show-errors s3://tools/X DEST
	fake := filepath.Join(dir, "fakebin")
	write(t, filepath.Join(fake, "aws"), "#!/bin/sh\n[ \"$1 $2 $3\" = \"s3 cp --only-show-errors\" ] || exit 9\nexec cp \""+dist+"/${4#s3://tools/}\" \"$5\"\n")
	os.Chmod(filepath.Join(fake, "aws"), 0o755)

	run := func() (string, error) {
		install := filepath.Join(dir, "bin")
		os.RemoveAll(install)
		cmd := exec.Command(filepath.Join(fleettest.RepoRoot(), "scripts", "emr-bootstrap.sh"), "s3://tools/", "v9", install)
		cmd.Env = append(os.Environ(), "PATH="+fake+":"+os.Getenv("PATH"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := run()
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out)
	}
	for _, tool := range fleettest.Tools {
		b, err := exec.Command(filepath.Join(dir, "bin", tool)).Output()
		if err != nil || strings.TrimSpace(string(b)) != tool+" v9" {
			t.Errorf("installed %s: %v %q", tool, err, b)
		}
	}
	// A tarball changed after SHA256SUMS was written is refused.
	if err := os.WriteFile(tarball, append(data, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(); err == nil || !strings.Contains(out, "does not match") {
		t.Fatalf("corrupt tarball: err %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "s3copy")); err == nil {
		t.Error("a corrupt tarball was installed")
	}
}
