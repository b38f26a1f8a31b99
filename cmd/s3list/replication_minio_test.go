package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/stream"
)

// uploadDir puts every file below dir under prefix+its relative path.
func uploadDir(t *testing.T, c *s3.Client, bucket, prefix, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		s3test.Put(t, c, bucket, prefix+filepath.ToSlash(rel), body)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestInventoryMinIO reads the good fixture from S3 as a whole report and as
// unit lines spread over workers; both must give exactly what the local
// copy gives, and a unit whose data file does not match its MD5 must fail.
func TestInventoryMinIO(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	c := srv.Client(t)
	uploadDir(t, c, bucket, "inv/", "../../lib/inventory/testdata/good")
	corrupt, err := os.ReadFile("../../lib/inventory/testdata/corrupt/src-bucket/cfg/data/part-1.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	s3test.Put(t, c, bucket, "corrupt/part-1.csv.gz", corrupt)
	manifest := "s3://" + bucket + "/inv/src-bucket/cfg/2024-01-02T00-00Z/manifest.json"
	filters := []string{"--replication-status", "NONE,FAILED", "--latest-only", "--skip-delete-markers"}

	local := s3list(t, "", nil, append([]string{"--inventory", invGood, "-q"}, filters...)...)
	if local.code != 0 || len(records(t, local.stdout)) != 4 {
		t.Fatalf("local: exit %d, %d records: %s", local.code, len(records(t, local.stdout)), local.stderr)
	}
	remote := s3list(t, "", nil, append(append(srcArgs(srv, bucket)[2:], "--inventory", manifest), filters...)...)
	if remote.code != 0 || remote.stdout != local.stdout {
		t.Fatalf("s3:// manifest: exit %d: %s\n%s\nwant\n%s", remote.code, remote.stderr, remote.stdout, local.stdout)
	}

	units := s3list(t, "", nil, append(srcArgs(srv, bucket)[2:], "--inventory", manifest, "--inventory-units")...)
	if units.code != 0 || strings.Count(units.stdout, "\n") != 2 || !strings.HasPrefix(units.stdout, "inventory\t"+bucket+"\tinv/src-bucket/cfg/data/part-0.csv.gz\t330\t") {
		t.Fatalf("units: exit %d: %s%s", units.code, units.stdout, units.stderr)
	}
	// Each unit line on its own worker, as parallel --pipe -N1 runs them;
	// and both on one process with two workers.
	var joined strings.Builder
	for _, line := range strings.SplitAfter(units.stdout, "\n")[:2] {
		r := s3list(t, line, nil, append(append(srcArgs(srv, bucket)[2:], "--units", "-", "-q"), filters...)...)
		if r.code != 0 {
			t.Fatalf("unit %q: exit %d: %s", line, r.code, r.stderr)
		}
		joined.WriteString(r.stdout)
	}
	if joined.String() != local.stdout {
		t.Fatalf("one worker per unit:\n%s\nwant\n%s", joined.String(), local.stdout)
	}
	both := s3list(t, units.stdout, nil, append(append(srcArgs(srv, bucket)[2:], "--units", "-", "-c", "2"), filters...)...)
	cs := counters.ParseReporterLines(both.stderr)
	if both.code != 0 || both.stdout != local.stdout || cs["s3list,units"] != 2 || cs["s3list,inventory_files"] != 2 ||
		cs["s3list,inventory_rows"] != 9 || cs["s3list,skipped"] != 5 || cs["s3list,objects"] != 4 {
		t.Fatalf("two units: exit %d, counters %v: %s\n%s", both.code, cs, both.stderr, both.stdout)
	}

	// The manifest output through the lister's pipe equals the direct one.
	wantMan := s3list(t, "", nil, append([]string{"--inventory", invGood, "-q", "--emit", "batchops-manifest"}, filters...)...)
	man := s3list(t, units.stdout, nil, append(append(srcArgs(srv, bucket)[2:], "--units", "-", "-q", "--emit", "batchops-manifest"), filters...)...)
	if wantMan.code != 0 || man.code != 0 || man.stdout != wantMan.stdout || strings.Count(man.stdout, "\n") != 4 {
		t.Fatalf("manifest via units: exit %d: %s%s\nwant (exit %d)\n%s", man.code, man.stderr, man.stdout, wantMan.code, wantMan.stdout)
	}

	// A data file that does not match its unit's MD5 fails that unit; the
	// unit before it is complete in the output.
	good1 := strings.SplitAfter(units.stdout, "\n")[1]
	fields := strings.Split(good1, "\t")
	fields[2] = "corrupt/part-1.csv.gz"
	bad := s3list(t, strings.SplitAfter(units.stdout, "\n")[0]+strings.Join(fields, "\t"), nil,
		append(srcArgs(srv, bucket)[2:], "--units", "-", "-q")...)
	if bad.code != stream.ExitFatal || !strings.Contains(bad.stderr, "read unit line 2: inventory data file \"corrupt/part-1.csv.gz\"") ||
		!strings.Contains(bad.stderr, "(corrupt or replaced)") || len(records(t, bad.stdout)) != 5 {
		t.Fatalf("corrupt unit: exit %d: %s\n%s", bad.code, bad.stderr, bad.stdout)
	}
}

// TestBatchMinIO re-drives a completion report (local CSV, and an s3://
// manifest.json whose result files are MD5-checked) and a manifest written
// by s3list itself: every task is HEADed, output in input order, gone
// objects counted.
func TestBatchMinIO(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, true)
	c := srv.Client(t)
	ctx := context.Background()
	red := "photos/red flower+1.jpg"
	v1 := s3test.Put(t, c, bucket, red, []byte("one"))
	s3test.Put(t, c, bucket, red, []byte("two!!"))
	s3test.Put(t, c, bucket, "日本/a,b", []byte("x"))
	s3test.Put(t, c, bucket, "gone", []byte("gone"))
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	report := strings.Join([]string{
		bucket + ",photos/red%20flower%2B1.jpg," + *v1.VersionId + ",failed,403,AccessDenied,Access Denied",
		bucket + ",%E6%97%A5%E6%9C%AC/a%2Cb,,failed,SlowDown,503,\"Please reduce your request rate, then retry.\"",
		bucket + ",gone,,failed,500,InternalError,x",
		bucket + ",never,,failed,404,NoSuchKey,x",
		bucket + ",日本,,succeeded,200,,Successful",
		bucket + ",photos/red+flower%2B1.jpg,,failed,500,InternalError,y",
	}, "\n") + "\n"
	type row struct {
		key, version string
		size         int64
	}
	want := []row{{red, *v1.VersionId, 3}, {"日本/a,b", "", 1}, {red, "", 5}}
	check := func(t *testing.T, r result) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var got []row
		for _, o := range records(t, r.stdout) {
			got = append(got, row{o.Key, o.VersionID, o.Size})
			if o.Bucket != bucket || o.ETag == "" || o.StorageClass != "STANDARD" || o.MTime.IsZero() {
				t.Errorf("record %+v", o)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
		cs := counters.ParseReporterLines(r.stderr)
		if cs["s3list,tasks"] != 6 || cs["s3list,skipped"] != 1 || cs["s3list,gone"] != 2 || cs["s3list,objects"] != 3 {
			t.Fatalf("counters %v", cs)
		}
	}
	dir := t.TempDir()
	csv := filepath.Join(dir, "failed.csv")
	if err := os.WriteFile(csv, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	check(t, s3list(t, "", nil, append(srcArgs(srv, bucket)[2:], "--batch-report", csv, "-c", "3")...))

	// The same rows as a report in S3: a failed result file with its MD5
	// and a succeeded one with a wrong MD5, which must not be read unless
	// every task is asked for.
	sum := md5.Sum([]byte(report))
	s3test.Put(t, c, bucket, "reports/job-1/results/failed.csv", []byte(report))
	s3test.Put(t, c, bucket, "reports/job-1/results/succeeded.csv", []byte(bucket+",x,,succeeded,200,,ok\n"))
	man := fmt.Sprintf(`{"Format":"Report_CSV_20180820","ReportCreationDate":"2024-01-02T00:00:00.000Z","Results":[
{"TaskExecutionStatus":"succeeded","Bucket":%q,"MD5Checksum":"00000000000000000000000000000000","Key":"reports/job-1/results/succeeded.csv"},
{"TaskExecutionStatus":"failed","Bucket":%q,"MD5Checksum":%q,"Key":"reports/job-1/results/failed.csv"}],
"ReportSchema":"Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"}`, bucket, bucket, hex.EncodeToString(sum[:]))
	s3test.Put(t, c, bucket, "reports/job-1/manifest.json", []byte(man))
	url := "s3://" + bucket + "/reports/job-1/manifest.json"
	check(t, s3list(t, "", nil, append(srcArgs(srv, bucket)[2:], "--batch-report", url, "-c", "2")...))
	all := s3list(t, "", nil, append(srcArgs(srv, bucket)[2:], "--batch-report", url, "--batch-report-all", "-q")...)
	if all.code != stream.ExitUsage || !strings.Contains(all.stderr, "succeeded.csv: MD5") {
		t.Fatalf("--batch-report-all: exit %d: %s", all.code, all.stderr)
	}

	// A version listing written as a Batch Operations manifest and read
	// back: every version but the delete marker, same ETags and sizes.
	list := s3list(t, "", nil, append(srcArgs(srv, bucket), "--versions", "--prefix", "", "-q")...)
	manifest := s3list(t, "", nil, append(srcArgs(srv, bucket), "--versions", "--emit", "batchops-manifest", "--batchops-versions")...)
	if manifest.code != 0 || counters.ParseReporterLines(manifest.stderr)["s3list,not_in_manifest"] != 1 {
		t.Fatalf("manifest: exit %d: %s", manifest.code, manifest.stderr)
	}
	back := s3list(t, manifest.stdout, nil, append(srcArgs(srv, bucket)[2:], "--batch-manifest", "-", "-q")...)
	if back.code != 0 {
		t.Fatalf("read manifest: exit %d: %s", back.code, back.stderr)
	}
	var wantRecs []record.Object
	for _, o := range records(t, list.stdout) {
		if !o.DeleteMarker {
			o.IsLatest = record.BoolNull // HEAD does not say
			wantRecs = append(wantRecs, o)
		}
	}
	if got := records(t, back.stdout); !slices.EqualFunc(got, wantRecs, func(a, b record.Object) bool {
		return a.Key == b.Key && a.ETag == b.ETag && a.Size == b.Size && a.VersionID == b.VersionID && a.MTime.Equal(b.MTime)
	}) || len(wantRecs) != 7 {
		t.Fatalf("manifest round trip:\n%s\nwant (%d records)\n%s", back.stdout, len(wantRecs), list.stdout)
	}
}
