package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `tool | head` ends quietly: when the reader goes away the tool stops
// (killed by SIGPIPE, or exit 0) without an error message or a panic.
func TestHeadEndsQuietly(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	var in bytes.Buffer
	for i := 0; i < 300000; i++ {
		fmt.Fprintf(&in, "key%08d\tetag\t1\t2024-01-01 00:00:00\tSTANDARD\t\\N\t\\N\tfalse\tb\n", i)
	}
	src := filepath.Join(dir, "src.tsv")
	if err := os.WriteFile(src, in.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`%q --dst /dev/null < %q | head -n 1; echo "status=${PIPESTATUS[0]}" >&2`,
		filepath.Join(binDir, "s3diff"), src)
	cmd := exec.Command("bash", "-c", script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bash: %v\n%s", err, stderr.String())
	}
	if got := stdout.String(); !strings.HasPrefix(got, "key00000000\t") || strings.Count(got, "\n") != 1 {
		t.Errorf("stdout %q, want the first record only", got)
	}
	var rest []string
	status := ""
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		switch {
		case strings.HasPrefix(l, "status="):
			status = strings.TrimPrefix(l, "status=")
		case strings.HasPrefix(l, "reporter:"), l == "":
		default:
			rest = append(rest, l)
		}
	}
	if status != "0" && status != "141" { // 141 = killed by SIGPIPE, as `yes | head` is
		t.Errorf("s3diff exit status %s, want 0 or 141", status)
	}
	if len(rest) > 0 {
		t.Errorf("s3diff printed more than counters after | head: %q", rest)
	}
}
