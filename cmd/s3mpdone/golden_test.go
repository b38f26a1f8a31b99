package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/stream"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Rows that need no S3 call (whole-object results, skips, planning
// failures, an adjacent duplicate) give a fixed report and counters.
func TestGoldenSingleRows(t *testing.T) {
	mt := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	base := record.Plan{ETag: "0cc175b9c0f1b6a831c399e269772661", Size: 1, MTime: mt, StorageClass: "STANDARD",
		SrcBucket: "src", DstBucket: "dst", Length: 1, Verify: record.VerifyETag, Action: record.ActionCopy}
	row := func(key, action, status string, mut func(*record.Result)) record.Result {
		r := record.Result{Plan: base, Status: status}
		r.Key, r.Action = key, action
		if mut != nil {
			mut(&r)
		}
		return r
	}
	rows := []record.Result{
		row("plain", "copy", "ok", func(r *record.Result) { r.DstETag, r.Proof = r.ETag, record.ProofETag }),
		row("nasty/tab\tnew\nline\\N", "copy", "ok", func(r *record.Result) {
			r.DstETag, r.DstVersionID, r.Proof = r.ETag, "v2", record.ProofContentMD5
		}),
		row("changed", "copy", "failed", func(r *record.Result) {
			r.ErrorCode, r.HTTPStatus, r.Message = "PreconditionFailed", 412, "source changed since listing"
		}),
		row("dup", "copy", "failed", func(r *record.Result) { r.ErrorCode, r.HTTPStatus = "SlowDown", 503 }),
		row("dup", "copy", "ok", func(r *record.Result) { r.DstETag, r.Proof = r.ETag, record.ProofServer }),
		row("marker", "skip", "skipped", func(r *record.Result) { r.Note = "delete marker: nothing to copy" }),
		row("unplannable", "fail", "failed", func(r *record.Result) { r.Note = "head part 2: AccessDenied" }),
	}
	// The destination side points nowhere: these rows must not call S3.
	c := CLI{Dst: s3client.Side{EndpointURL: "http://127.0.0.1:1", Region: "us-east-1", PathStyle: "true"}, Tuning: s3test.Tuning()}
	var out, errb bytes.Buffer
	err := run(context.Background(), &c, &stream.IO{Stdin: bytes.NewReader(encode(t, rows)), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }})
	if err != stream.ErrSomeFailed {
		t.Fatalf("run: %v, want ErrSomeFailed\n%s", err, errb.String())
	}
	golden(t, "single.report.tsv", out.Bytes())
	golden(t, "single.counters", errb.Bytes())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
