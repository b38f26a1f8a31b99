package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

const mib = s3test.MiB

// seedCampanile writes Campanile's fixtures: keys 00..ff and 000/00, plus
// a 20 MiB object in three parts of 8 MiB (the AWS CLI default) and the
// given extra keys. It returns every key.
func seedCampanile(t *testing.T, c *s3.Client, bucket string, extra ...string) []string {
	t.Helper()
	keys := []string{"000/00"}
	for i := range 256 {
		keys = append(keys, fmt.Sprintf("%02x", i))
	}
	keys = append(keys, extra...)
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				s3test.Put(t, c, bucket, k, []byte("campanile "+k))
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	etag := putParts(t, c, bucket, "big/20MiB", 20, 8*mib, 8*mib, 4*mib)
	if !strings.HasSuffix(etag, "-3") {
		t.Fatalf("fixture ETag %s is not a 3-part ETag", etag)
	}
	return append(keys, "big/20MiB")
}

func statusAll(keys []string, status string) map[string]string {
	m := map[string]string{}
	for _, k := range keys {
		m[k] = status
	}
	return m
}

// nastyKeys are keys that break weaker tools' formats (all hostable by MinIO).
var nastyKeys = []string{"nasty/tab\there", "nasty/new\nline", "nasty/cr\rreturn", "nasty/back\\slash", "nasty/\\N",
	"nasty/plus+and space", "nasty/日本/é", "nasty/pct%41"}

func testCampanile(t *testing.T, src, dst *s3test.Server, mode string, extra ...string) {
	e := newEnv(t, src, dst)
	keys := seedCampanile(t, src.Client(t), e.srcB, extra...)

	first := e.runChain("first", "--mode", mode)
	e.mustOK(first.copyDone)
	checkOneRowEach(t, first.report, statusAll(keys, record.OutcomeCopied))
	e.sameContents()
	if r := first.report["big/20MiB"]; len(r) == 1 && (r[0].Proof != record.ProofETag || r[0].DstETag != r[0].SrcETag) {
		t.Errorf("20 MiB object: %+v, want identical ETags with proof etag", r[0])
	}
	if n := countLines(t, e.path("first.plan.tsv")); n != len(keys)-1+3 {
		t.Errorf("plan has %d rows, want %d (one per object, three for the 20 MiB one)", n, len(keys)+2)
	}
	cnt := first.done().counters()
	if cnt["copied"] != int64(len(keys)) || cnt["uploads_completed"] != 1 || cnt["failed"] != 0 {
		t.Errorf("s3mpdone counters %v", cnt)
	}
	if n := uploadsLeft(t, dst.Client(t), e.dstB); n != 0 {
		t.Errorf("%d unfinished uploads left", n)
	}

	// A second run finds nothing to copy and reports nothing.
	second := e.runChain("second", "--mode", mode)
	e.mustOK(second.copyDone)
	if n := countLines(t, e.path("second.plan.tsv")); n != 0 {
		t.Errorf("second run planned %d rows, want 0", n)
	}
	checkOneRowEach(t, second.report, nil)
	if cnt := second.copy().counters(); cnt["bytes"] != 0 {
		t.Errorf("second run copied bytes: %v", cnt)
	}
}

func TestCampanileSameServer(t *testing.T) {
	testCampanile(t, s3test.A(t), s3test.A(t), "server")
}

func TestCampanileCrossAccount(t *testing.T) {
	testCampanile(t, s3test.A(t), s3test.B(t), "stream", nastyKeys...)
}

// A part that fails (source overwritten after planning; an upload lost
// after planning) makes the object fail and its upload go away; feeding the
// failed report rows back re-drives what can be re-driven, and a re-run of
// the chain fixes the rest.
func TestFailedPartsThenRedrive(t *testing.T) {
	src, dst := s3test.A(t), s3test.B(t)
	e := newEnv(t, src, dst)
	sc, dc := src.Client(t), dst.Client(t)
	putParts(t, sc, e.srcB, "changed", 1, 5*mib, 1*mib)
	putParts(t, sc, e.srcB, "lost-upload", 2, 5*mib, 1*mib)
	s3test.Put(t, sc, e.srcB, "small", []byte("ok"))

	dstList := e.path("dst.tsv")
	e.mustOK(e.pipeline("", dstList, e.listDstCmd("--bucket", e.dstB)))
	e.mustOK(e.pipeline("", e.path("plan.tsv"), e.cmd("s3list", "--bucket", e.srcB), e.cmd("s3diff", "--dst", dstList),
		e.cmd("s3mpplan", "--dst-bucket", e.dstB)))
	// Between plan and copy: the source of one object changes, the
	// destination upload of another disappears.
	putParts(t, sc, e.srcB, "changed", 3, 5*mib, 2*mib)
	plan := readPlan(t, e.path("plan.tsv"))
	lost := plan["lost-upload"]
	if lost.UploadID == "" {
		t.Fatalf("no part rows planned for lost-upload: %+v", plan)
	}
	if _, err := dc.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{Bucket: &e.dstB,
		Key: aws.String("lost-upload"), UploadId: &lost.UploadID}); err != nil {
		t.Fatal(err)
	}
	st := e.pipeline(e.path("plan.tsv"), e.path("report1.tsv"), e.cmd("s3copy", "--mode", "stream"), e.cmd("s3mpdone"))
	e.mustOK(st, "s3copy", "s3mpdone")
	if st[1].exitCode() != 1 {
		t.Errorf("s3mpdone exited %d with failed objects, want 1", st[1].exitCode())
	}
	rep := readReport(t, e.path("report1.tsv"))
	checkOneRowEach(t, rep, map[string]string{"changed": "failed", "lost-upload": "failed", "small": "copied"})
	if r := rep["changed"]; len(r) == 1 && r[0].ErrorCode != "PreconditionFailed" {
		t.Errorf("changed source: %s %s, want PreconditionFailed", r[0].ErrorCode, r[0].Message)
	}
	if r := rep["lost-upload"]; len(r) == 1 && r[0].ErrorCode != "NoSuchUpload" {
		t.Errorf("lost upload: %s %s, want NoSuchUpload", r[0].ErrorCode, r[0].Message)
	}
	if n := uploadsLeft(t, dc, e.dstB); n != 0 {
		t.Errorf("%d uploads left after failed parts, want all aborted", n)
	}

	// Re-drive: the failed report rows go back into s3mpplan.
	failed := e.path("failed.tsv")
	filterReport(t, e.path("report1.tsv"), failed, record.OutcomeFailed)
	st = e.pipeline(failed, e.path("report2.tsv"), e.cmd("s3mpplan", "--dst-bucket", e.dstB),
		e.cmd("s3copy", "--mode", "stream"), e.cmd("s3mpdone"))
	e.mustOK(st, "s3mpplan", "s3copy", "s3mpdone")
	rep = readReport(t, e.path("report2.tsv"))
	// "changed" was listed with its old ETag: re-driving it must fail
	// again ("source changed"), never copy the new version under the old
	// listing's name.
	checkOneRowEach(t, rep, map[string]string{"changed": "failed", "lost-upload": "copied"})

	// A fresh run of the chain lists the new version and copies it.
	c := e.runChain("rerun", "--mode", "stream")
	e.mustOK(c.copyDone)
	checkOneRowEach(t, c.report, map[string]string{"changed": "copied"})
	e.sameContents()
	if n := uploadsLeft(t, dc, e.dstB); n != 0 {
		t.Errorf("%d uploads left", n)
	}
}

func readPlan(t *testing.T, path string) map[string]record.Plan {
	t.Helper()
	m := map[string]record.Plan{}
	for _, f := range readRows(t, path, record.PlanColumns) {
		var p record.Plan
		if err := record.ParsePlan(f, &p); err != nil {
			t.Fatal(err)
		}
		m[p.Key] = p
	}
	return m
}

// filterReport copies the report rows with the given status.
func filterReport(t *testing.T, in, out, status string) {
	t.Helper()
	var b strings.Builder
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if f := strings.Split(line, "\t"); len(f) == record.ReportColumns && f[3] == status {
			b.WriteString(line)
		}
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Kill s3copy with SIGKILL in the middle of several multipart copies,
// then re-run copy and complete on the same plan: the uploads are
// resumed, parts already uploaded are not sent again, and cleanup finds
// no orphaned upload.
func TestKillCopyAndResume(t *testing.T) {
	src, dst := s3test.A(t), s3test.B(t)
	e := newEnv(t, src, dst)
	sc, dc := src.Client(t), dst.Client(t)
	var keys []string
	for i := range 4 {
		k := fmt.Sprintf("large/%d", i)
		putParts(t, sc, e.srcB, k, uint64(100+i), 5*mib, 5*mib, 5*mib, 1*mib)
		keys = append(keys, k)
	}
	const totalParts = 16
	dstList := e.path("dst.tsv")
	e.mustOK(e.pipeline("", dstList, e.listDstCmd("--bucket", e.dstB)))
	plan := e.path("plan.tsv")
	e.mustOK(e.pipeline("", plan, e.cmd("s3list", "--bucket", e.srcB), e.cmd("s3diff", "--dst", dstList),
		e.cmd("s3mpplan", "--dst-bucket", e.dstB)))
	if n := countLines(t, plan); n != totalParts {
		t.Fatalf("plan has %d rows, want %d", n, totalParts)
	}

	// s3copy | s3mpdone, with s3copy killed (SIGKILL) once at least three
	// parts are at the destination and before all are: some parts done,
	// others in flight. (Watching the destination, not s3copy's output:
	// s3copy may hold result rows in its output buffer.)
	uploads := map[string]string{} // upload id -> key
	for _, f := range readRows(t, plan, record.PlanColumns) {
		uploads[string(f[8])] = string(f[0])
	}
	cp := e.cmd("s3copy", "--mode", "stream", "--concurrency", "2")
	pf, err := os.Open(plan)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	cp.Stdin = pf
	var cpErr, doneErr strings.Builder
	cp.Stderr = &cpErr
	pipe, err := cp.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	done := e.cmd("s3mpdone")
	done.Stdin = pipe
	report1, err := os.Create(e.path("report1.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer report1.Close()
	done.Stdout, done.Stderr = report1, &doneErr
	if err := cp.Start(); err != nil {
		t.Fatal(err)
	}
	if err := done.Start(); err != nil {
		t.Fatal(err)
	}
	// The most parts seen per upload: an upload that s3mpdone completes
	// meanwhile stops answering ListParts, and its parts still count.
	seen := map[string]int{}
	uploaded := 0
	deadline := time.Now().Add(2 * time.Minute)
	for uploaded < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		uploaded = 0
		for id, key := range uploads {
			out, err := dc.ListParts(context.Background(), &s3.ListPartsInput{Bucket: &e.dstB, Key: aws.String(key), UploadId: aws.String(id)})
			if err == nil && len(out.Parts) > seen[id] {
				seen[id] = len(out.Parts)
			}
			uploaded += seen[id]
		}
	}
	killErr := cp.Process.Signal(syscall.SIGKILL)
	cpWait := cp.Wait()
	doneWait := done.Wait()
	if killErr != nil || uploaded >= totalParts {
		t.Fatalf("s3copy was not killed mid-run (%d of %d parts uploaded, kill: %v): %v\n%s", uploaded, totalParts, killErr, cpWait, cpErr.String())
	}
	if ee, ok := cpWait.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("s3copy: %v, want killed by SIGKILL", cpWait)
	}
	t.Logf("killed s3copy with %d of %d parts uploaded", uploaded, totalParts)
	// s3mpdone reports what reached it: no object twice, none copied
	// while parts are missing, incomplete uploads kept for the resume.
	rep1 := readReport(t, e.path("report1.tsv"))
	left := uploadsLeft(t, dc, e.dstB)
	copied := 0
	for k, rows := range rep1 {
		if len(rows) != 1 {
			t.Errorf("%q: %d report rows after the kill", k, len(rows))
		}
		if rows[0].Status == record.OutcomeCopied {
			copied++
		} else if rows[0].ErrorCode != "IncompleteUpload" {
			t.Errorf("%q: %s %s, want copied or IncompleteUpload", k, rows[0].ErrorCode, rows[0].Message)
		}
	}
	t.Logf("after the kill: s3mpdone %v, %d report rows (%d copied), %d uploads kept", doneWait, len(rep1), copied, left)
	if left+copied != len(keys) {
		t.Errorf("%d uploads kept + %d copied, want %d: an interrupted upload was lost\n%s", left, copied, len(keys), doneErr.String())
	}

	// Re-run copy and complete on the same plan rows.
	// Parts of uploads that s3mpdone already completed before the kill
	// come back NoSuchUpload from s3copy (exit 1); s3mpdone then checks
	// the destination object and reports it copied.
	st := e.pipeline(plan, e.path("report2.tsv"), e.cmd("s3copy", "--mode", "stream"), e.cmd("s3mpdone"))
	e.mustOK(st, "s3copy")
	checkOneRowEach(t, readReport(t, e.path("report2.tsv")), statusAll(keys, record.OutcomeCopied))
	cnt := st[0].counters()
	resumed := cnt["resumed_parts"]
	t.Logf("re-run s3copy counters: %v", cnt)
	gone := cnt["failed"] // every failed row here is a part of a completed upload
	if copied > 0 && gone == 0 {
		t.Errorf("%d objects were completed before the kill, but no part row of theirs failed NoSuchUpload on the re-run", copied)
	}
	if copied == 0 && resumed < 3 {
		t.Errorf("resumed_parts = %d, want at least the %d parts uploaded before the kill", resumed, uploaded)
	}
	if sent := cnt["streamed"] + cnt["server_copies"]; sent+resumed+gone != totalParts {
		t.Errorf("re-run sent %d parts, resumed %d and found %d already completed, want %d in all (nothing sent twice)", sent, resumed, gone, totalParts)
	}
	e.sameContents()

	// Cleanup finds nothing to abort; a whole-chain re-run copies nothing.
	cl := e.cmd("s3mpdone", "--cleanup", "--bucket", e.dstB, "--older-than", "0s")
	out, err := cl.Output()
	if err != nil || len(out) != 0 {
		t.Errorf("cleanup: %v, output %q (want no orphaned uploads)", err, out)
	}
	if n := uploadsLeft(t, dc, e.dstB); n != 0 {
		t.Errorf("%d uploads left", n)
	}
	c := e.runChain("rerun", "--mode", "stream")
	e.mustOK(c.copyDone)
	checkOneRowEach(t, c.report, nil)
}
