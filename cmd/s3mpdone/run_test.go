package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// upload starts a multipart upload of body with the given part sizes and
// uploads the parts, as s3mpplan and s3copy would; it returns the result
// rows s3copy would write and the ETag the object gets once completed.
func upload(t *testing.T, c *s3.Client, bucket, key string, body []byte, sizes []int64) ([]record.Result, string) {
	t.Helper()
	ctx := context.Background()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	etag := strings.Trim(s3test.MultipartETag(body, sizes), `"`)
	var rows []record.Result
	var off int64
	for i, n := range sizes {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body[off : off+n]), ContentLength: aws.Int64(n)})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, record.Result{Plan: record.Plan{Key: key, ETag: etag, Size: int64(len(body)),
			MTime: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), SrcBucket: "src", DstBucket: bucket,
			UploadID: *up.UploadId, PartNumber: int32(i + 1), PartCount: int32(len(sizes)), Offset: off, Length: n,
			Verify: record.VerifyETag, Action: record.ActionPart},
			Status: record.StatusOK, DstETag: strings.Trim(aws.ToString(out.ETag), `"`), Proof: record.ProofContentMD5})
		off += n
	}
	return rows, etag
}

func encode(t *testing.T, rows []record.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tsv.NewWriter(&b)
	for i := range rows {
		if err := rows[i].Write(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type runOut struct {
	err     error
	stdout  []byte
	stderr  string
	reports map[string][]record.Report
	counts  map[string]int64
}

func runTool(t *testing.T, c CLI, input []byte) runOut {
	t.Helper()
	var out, errb bytes.Buffer
	sio := &stream.IO{Stdin: bytes.NewReader(input), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	err := run(context.Background(), &c, sio)
	r := runOut{err: err, stdout: out.Bytes(), stderr: errb.String(), counts: map[string]int64{}}
	for k, v := range counters.ParseReporterLines(r.stderr) {
		r.counts[strings.TrimPrefix(k, "s3mpdone,")] = v
	}
	if !c.Cleanup && !c.Gzip {
		r.reports = parseReports(t, bytes.NewReader(out.Bytes()))
	}
	return r
}

func parseReports(t *testing.T, rd io.Reader) map[string][]record.Report {
	t.Helper()
	m := map[string][]record.Report{}
	in := tsv.NewReader(rd)
	for {
		f, err := in.Read()
		if err == io.EOF {
			return m
		}
		if err != nil {
			t.Fatal(err)
		}
		var rep record.Report
		if err := record.ParseReport(f, &rep); err != nil {
			t.Fatal(record.AtLine(in, err))
		}
		m[rep.Key] = append(m[rep.Key], rep)
	}
}

func newCLI(srv *s3test.Server) CLI {
	return CLI{Dst: srv.Side(), Tuning: s3test.Tuning(), OlderThan: 24 * time.Hour}
}

func one(t *testing.T, reps map[string][]record.Report, key string) record.Report {
	t.Helper()
	if len(reps[key]) != 1 {
		t.Fatalf("%q: %d report rows, want 1", key, len(reps[key]))
	}
	return reps[key][0]
}

func TestCompleteAgainstS3(t *testing.T) {
	srv := s3test.A(t)
	c := srv.Client(t)
	bucket := srv.Bucket(t, false)
	keyA := "dir/a\tkey with space+plus\\N"
	keyB := "b/日本"
	bodyA := s3test.RandomBytes(5*s3test.MiB+1234, 1)
	bodyB := s3test.RandomBytes(5*s3test.MiB+10, 2)
	rowsA, etagA := upload(t, c, bucket, keyA, bodyA, []int64{5 * s3test.MiB, 1234})
	rowsB, etagB := upload(t, c, bucket, keyB, bodyB, []int64{5 * s3test.MiB, 10})
	single := record.Result{Plan: record.Plan{Key: "single", ETag: "abc", Size: 3, SrcBucket: "src", DstBucket: bucket,
		Length: 3, Verify: record.VerifyETag, Action: record.ActionCopy}, Status: record.StatusOK, DstETag: "abc", Proof: record.ProofETag}
	// Unsorted, interleaved, as parallel s3copy workers write them.
	input := encode(t, []record.Result{rowsA[1], rowsB[1], single, rowsB[0], rowsA[0]})

	r := runTool(t, newCLI(srv), input)
	if r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.stderr)
	}
	for key, etag := range map[string]string{keyA: etagA, keyB: etagB} {
		rep := one(t, r.reports, key)
		if rep.Status != record.OutcomeCopied || rep.DstETag != etag || rep.SrcETag != etag || rep.Proof != record.ProofETag {
			t.Errorf("%q: %+v, want copied with ETag %s", key, rep, etag)
		}
		head, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(key)})
		if err != nil || strings.Trim(aws.ToString(head.ETag), `"`) != etag {
			t.Errorf("%q at destination: %v %v, want ETag %s", key, err, head, etag)
		}
	}
	if one(t, r.reports, "single").Status != record.OutcomeCopied {
		t.Error("single-object row not reported copied")
	}
	if r.counts["objects"] != 3 || r.counts["uploads_completed"] != 2 || r.counts["bytes"] != int64(len(bodyA)+len(bodyB)+3) {
		t.Errorf("counters %v", r.counts)
	}

	// A retried reducer sees the same rows: the uploads are gone, the
	// objects are there, nothing fails.
	r = runTool(t, newCLI(srv), input)
	if r.err != nil {
		t.Fatalf("re-run: %v\n%s", r.err, r.stderr)
	}
	if rep := one(t, r.reports, keyA); rep.Status != record.OutcomeCopied || rep.DstETag != etagA {
		t.Errorf("re-run: %+v", rep)
	}
	if r.counts["uploads_completed"] != 0 || r.counts["copied"] != 3 {
		t.Errorf("re-run counters %v", r.counts)
	}
}

func TestFailedPartAbortsUpload(t *testing.T) {
	srv := s3test.A(t)
	c := srv.Client(t)
	bucket := srv.Bucket(t, false)
	body := s3test.RandomBytes(5*s3test.MiB+5, 3)
	rows, _ := upload(t, c, bucket, "k", body, []int64{5 * s3test.MiB, 5})
	rows[1].Status, rows[1].DstETag, rows[1].ErrorCode, rows[1].HTTPStatus, rows[1].Message =
		record.StatusFailed, "", "PreconditionFailed", 412, "source changed"
	r := runTool(t, newCLI(srv), encode(t, rows))
	if !errors.Is(r.err, stream.ErrSomeFailed) {
		t.Fatalf("got %v, want ErrSomeFailed", r.err)
	}
	rep := one(t, r.reports, "k")
	if rep.Status != record.OutcomeFailed || rep.ErrorCode != "PreconditionFailed" || rep.HTTPStatus != 412 {
		t.Errorf("%+v", rep)
	}
	_, err := c.ListParts(context.Background(), &s3.ListPartsInput{Bucket: &bucket, Key: aws.String("k"), UploadId: &rows[0].UploadID})
	if err == nil {
		t.Error("upload still exists after a failed part")
	}
	if _, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("k")}); err == nil {
		t.Error("object exists although a part failed")
	}
}

func TestETagMismatchAgainstS3(t *testing.T) {
	srv := s3test.A(t)
	c := srv.Client(t)
	bucket := srv.Bucket(t, false)
	body := s3test.RandomBytes(5*s3test.MiB+5, 4)
	rows, _ := upload(t, c, bucket, "k", body, []int64{5 * s3test.MiB, 5})
	for i := range rows {
		rows[i].ETag = "00000000000000000000000000000000-2"
	}
	r := runTool(t, newCLI(srv), encode(t, rows))
	if !errors.Is(r.err, stream.ErrSomeFailed) {
		t.Fatalf("got %v", r.err)
	}
	if rep := one(t, r.reports, "k"); rep.Status != record.OutcomeFailed || rep.ErrorCode != "ETagMismatch" {
		t.Errorf("%+v", rep)
	}
}

func TestMissingPartsKeptThenResumed(t *testing.T) {
	srv := s3test.A(t)
	c := srv.Client(t)
	bucket := srv.Bucket(t, false)
	body := s3test.RandomBytes(5*s3test.MiB+5, 5)
	rows, etag := upload(t, c, bucket, "k", body, []int64{5 * s3test.MiB, 5})
	r := runTool(t, newCLI(srv), encode(t, rows[:1]))
	if !errors.Is(r.err, stream.ErrSomeFailed) {
		t.Fatalf("got %v", r.err)
	}
	if rep := one(t, r.reports, "k"); rep.ErrorCode != "IncompleteUpload" || !strings.HasPrefix(rep.Message, "incomplete: 1 of 2 parts") {
		t.Errorf("%+v", rep)
	}
	// The upload was kept: the whole set of rows completes it now.
	r = runTool(t, newCLI(srv), encode(t, rows))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if rep := one(t, r.reports, "k"); rep.Status != record.OutcomeCopied || rep.DstETag != etag {
		t.Errorf("%+v", rep)
	}
}

func TestGzipOutputFile(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	rows := []record.Result{{Plan: record.Plan{Key: "s", ETag: "e", Size: 1, SrcBucket: "src", DstBucket: bucket, Length: 1,
		Verify: record.VerifyETag, Action: record.ActionSkip, Note: "same at destination"}, Status: record.StatusSkipped}}
	path := filepath.Join(t.TempDir(), "report.tsv.gz")
	cl := newCLI(srv)
	cl.Gzip, cl.Output = true, path
	r := runTool(t, cl, encode(t, rows))
	if r.err != nil || len(r.stdout) != 0 {
		t.Fatalf("err %v, stdout %q", r.err, r.stdout)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	reps := parseReports(t, zr)
	if rep := one(t, reps, "s"); rep.Status != record.OutcomeSkipped || rep.Message != "same at destination" {
		t.Errorf("%+v", rep)
	}
}

func TestCleanupMode(t *testing.T) {
	srv := s3test.A(t)
	c := srv.Client(t)
	bucket := srv.Bucket(t, false)
	ctx := context.Background()
	keys := []string{"p/a b+c%d", "p/tab\there", "p/x/日本", "q/outside"}
	for _, k := range keys {
		if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	cl := newCLI(srv)
	cl.Cleanup, cl.Bucket, cl.Prefix, cl.OlderThan = true, bucket, "p/", 0
	cl.DryRun = true
	r := runTool(t, cl, nil)
	if r.err != nil {
		t.Fatalf("dry run: %v\n%s", r.err, r.stderr)
	}
	rows := cleanupRows(t, r.stdout)
	for _, k := range keys[:3] {
		if rows[k] != "would-abort" {
			t.Errorf("dry run: %q: %q (all %v)", k, rows[k], rows)
		}
	}
	if len(rows) != 3 || countUploads(t, c, bucket) != 4 {
		t.Fatalf("dry run: rows %v, uploads %d", rows, countUploads(t, c, bucket))
	}
	cl.DryRun = false
	cl.OlderThan = time.Hour
	if r := runTool(t, cl, nil); r.err != nil || cleanupRows(t, r.stdout)["p/a b+c%d"] != "kept-young" || countUploads(t, c, bucket) != 4 {
		t.Fatalf("young uploads: %v %v", r.err, cleanupRows(t, r.stdout))
	}
	cl.OlderThan = 0
	r = runTool(t, cl, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	rows = cleanupRows(t, r.stdout)
	for _, k := range keys[:3] {
		if rows[k] != "aborted" {
			t.Errorf("%q: %q", k, rows[k])
		}
	}
	if n := countUploads(t, c, bucket); n != 1 || r.counts["uploads_aborted"] != 3 {
		t.Errorf("%d uploads left (want the one outside the prefix), counters %v", n, r.counts)
	}
}

func cleanupRows(t *testing.T, out []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	in := tsv.NewReader(bytes.NewReader(out))
	for {
		f, err := in.ReadN(5)
		if err == io.EOF {
			return m
		}
		if err != nil {
			t.Fatal(err)
		}
		m[string(f[0])] = string(f[3])
	}
}

func countUploads(t *testing.T, c *s3.Client, bucket string) int {
	t.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func TestUsageErrors(t *testing.T) {
	for name, cl := range map[string]CLI{
		"cleanup-without-bucket": {Cleanup: true},
		"bucket-without-cleanup": {Bucket: "b"},
	} {
		var ue *stream.UsageError
		if err := run(context.Background(), &cl, &stream.IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}); !errors.As(err, &ue) {
			t.Errorf("%s: got %v, want a usage error", name, err)
		}
	}
}

func TestBadInputNamesLine(t *testing.T) {
	srv := s3test.A(t)
	r := runTool(t, newCLI(srv), []byte("a\tb\tc\n"))
	var pe *tsv.ParseError
	if !errors.As(r.err, &pe) || pe.Line != 1 {
		t.Fatalf("got %v, want a parse error at line 1", r.err)
	}
}
