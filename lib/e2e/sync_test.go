package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

// syncCmd runs scripts/s3pipe-sync from the source to the destination
// bucket with the servers' settings passed as flags.
func (e *env) syncCmd(work string, extra ...string) *exec.Cmd {
	s, d := e.src.Side(), e.dst.Side()
	args := []string{"--bin", binDir, "--work", work, "--concurrency", "8",
		"--src-profile", s.Profile, "--src-endpoint-url", s.EndpointURL, "--src-region", s.Region,
		"--dst-profile", d.Profile, "--dst-endpoint-url", d.EndpointURL, "--dst-region", d.Region}
	args = append(args, extra...)
	args = append(args, "s3://"+e.srcB+"/data/", "s3://"+e.dstB+"/data/")
	c := exec.Command(filepath.Join(repoRoot, "scripts", "s3pipe-sync"), args...)
	// Only the flags configure the sides: drop any inherited S3PIPE_*.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "S3PIPE_SRC_") && !strings.HasPrefix(kv, "S3PIPE_DST_") {
			c.Env = append(c.Env, kv)
		}
	}
	return c
}

func runSync(t *testing.T, c *exec.Cmd, wantCode int) string {
	t.Helper()
	out, err := c.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != wantCode {
		t.Fatalf("s3pipe-sync exited %d, want %d:\n%s", code, wantCode, out)
	}
	return string(out)
}

var summaryRE = regexp.MustCompile(`s3pipe-sync: (\d+) object\(s\): (\d+) copied, (\d+) skipped, (\d+) failed`)

func summary(t *testing.T, out string) []string {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary line in:\n%s", out)
	}
	return m[1:]
}

func TestSyncScriptTwice(t *testing.T) {
	e := newEnv(t, s3test.A(t), s3test.B(t))
	sc := e.src.Client(t)
	keys := []string{"data/a", "data/tab\tkey", "data/new\nline", "data/日本 +x"}
	for _, k := range keys {
		s3test.Put(t, sc, e.srcB, k, []byte("body of "+k))
	}
	putParts(t, sc, e.srcB, "data/multi", 7, 5*mib, 1*mib)
	s3test.Put(t, sc, e.srcB, "other/not-synced", []byte("outside the prefix"))
	keys = append(keys, "data/multi")
	work := filepath.Join(e.dir, "work")

	out := runSync(t, e.syncCmd(work, "--dry-run"), 0)
	if !strings.Contains(out, "dry run: would copy 5 object(s) (2 multipart part(s))") {
		t.Errorf("dry run output:\n%s", out)
	}
	if n := len(listing(t, e.dst.Client(t), e.dstB)); n != 0 || uploadsLeft(t, e.dst.Client(t), e.dstB) != 0 {
		t.Fatalf("dry run changed the destination: %d objects", n)
	}

	out = runSync(t, e.syncCmd(work), 0)
	if got := summary(t, out); strings.Join(got, " ") != "5 5 0 0" {
		t.Errorf("first run: %v, want 5 copied\n%s", got, out)
	}
	checkOneRowEach(t, readReport(t, filepath.Join(work, "report.tsv")), statusAll(keys, record.OutcomeCopied))
	for _, f := range []string{"src.tsv", "dst.tsv", "diff.tsv", "plan.tsv", "copy.log", "complete.log"} {
		if _, err := os.Stat(filepath.Join(work, f)); err != nil {
			t.Errorf("work dir: %v", err)
		}
	}
	dst := listing(t, e.dst.Client(t), e.dstB)
	src := listing(t, sc, e.srcB)
	for _, k := range keys {
		if dst[k] != src[k] {
			t.Errorf("%q: destination ETag %q, source %q", k, dst[k], src[k])
		}
	}
	if _, ok := dst["other/not-synced"]; ok || len(dst) != len(keys) {
		t.Errorf("destination holds %d objects: %v", len(dst), dst)
	}

	out = runSync(t, e.syncCmd(work, "--gzip"), 0)
	if got := summary(t, out); strings.Join(got, " ") != "0 0 0 0" {
		t.Errorf("second run: %v, want nothing copied\n%s", got, out)
	}
	if n := countLines(t, filepath.Join(work, "diff.tsv")); n != 0 {
		t.Errorf("second run's diff has %d rows", n)
	}
	if cnt := counters.ParseReporterLines(readFile(t, filepath.Join(work, "copy.log"))); cnt["s3copy,bytes"] != 0 {
		t.Errorf("second run's s3copy counters: %v", cnt)
	}
}

// An interrupted run (its plan is there, its uploads half done) is resumed
// by the next run: the parts already uploaded are not sent again.
func TestSyncScriptResumesInterruptedRun(t *testing.T) {
	e := newEnv(t, s3test.A(t), s3test.B(t))
	sc := e.src.Client(t)
	putParts(t, sc, e.srcB, "data/m1", 11, 5*mib, 5*mib, 1*mib)
	putParts(t, sc, e.srcB, "data/m2", 12, 5*mib, 2*mib)
	s3test.Put(t, sc, e.srcB, "data/small", []byte("x"))
	work := filepath.Join(e.dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	// The interrupted run: planned everything, copied the first two part
	// rows of m1 (plan order), then died before completing anything.
	dstList := filepath.Join(work, "dst.tsv")
	e.mustOK(e.pipeline("", dstList, e.listDstCmd("--bucket", e.dstB)))
	plan := filepath.Join(work, "plan.tsv")
	e.mustOK(e.pipeline("", plan, e.cmd("s3list", "--bucket", e.srcB, "--prefix", "data/"),
		e.cmd("s3diff", "--dst", dstList), e.cmd("s3mpplan", "--dst-bucket", e.dstB)))
	rows := strings.SplitAfter(readFile(t, plan), "\n")
	var m1 []string
	for _, r := range rows {
		if strings.HasPrefix(r, "data/m1\t") {
			m1 = append(m1, r)
		}
	}
	if len(m1) != 3 {
		t.Fatalf("plan has %d rows for data/m1, want 3", len(m1))
	}
	partial := filepath.Join(e.dir, "partial-plan.tsv")
	if err := os.WriteFile(partial, []byte(m1[0]+m1[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustOK(e.pipeline(partial, filepath.Join(e.dir, "partial-results.tsv"), e.cmd("s3copy", "--mode", "stream")))
	if err := os.WriteFile(filepath.Join(work, "state"), []byte("running\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	out := runSync(t, e.syncCmd(work), 0)
	resumeCopy := counters.ParseReporterLines(readFile(t, filepath.Join(work, "resume-copy.log")))
	if resumeCopy["s3copy,resumed_parts"] != 2 {
		t.Errorf("resume pass: resumed_parts %d, want 2 (counters %v)", resumeCopy["s3copy,resumed_parts"], resumeCopy)
	}
	resumed := readReport(t, filepath.Join(work, "resume-report.tsv"))
	checkOneRowEach(t, resumed, map[string]string{"data/m1": "copied", "data/m2": "copied"})
	// The main pass copies only what the resume pass did not: the small object.
	checkOneRowEach(t, readReport(t, filepath.Join(work, "report.tsv")), map[string]string{"data/small": "copied"})
	e.sameContents()
	if n := uploadsLeft(t, e.dst.Client(t), e.dstB); n != 0 {
		t.Errorf("%d uploads left:\n%s", n, out)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
