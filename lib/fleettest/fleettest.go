// Package fleettest is test support for the scale-out tests (lib/fleet: GNU
// parallel over SSH; lib/hadooprun: the EMR steps under a local Hadoop
// streaming runner). It owns what those tests share: the five binaries, a
// seeded source/destination pair of buckets, and the checks every scale-out
// run must pass — the destination holds the source's keys with the source's
// ETags, the merged report has exactly one row per source object, and no
// multipart upload is left behind.
package fleettest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Tools are the five binaries of the chain.
var Tools = []string{"s3list", "s3diff", "s3mpplan", "s3copy", "s3mpdone"}

// RepoRoot is the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Binaries returns a directory holding the five tools: $S3PIPE_BIN when set
// (make test builds them there), else a build made once per test process
// (removed by Cleanup).
func Binaries(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("S3PIPE_BIN"); dir != "" {
		for _, tool := range Tools {
			if _, err := os.Stat(filepath.Join(dir, tool)); err != nil {
				t.Fatalf("S3PIPE_BIN=%s lacks %s: %v", dir, tool, err)
			}
		}
		return dir
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "s3pipe-fleettest-bin-"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-o", buildDir+"/", "./cmd/...")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/...: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// Cleanup removes a build made by Binaries; call it from TestMain.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// Dataset describes the objects Seed writes.
type Dataset struct {
	Small     int // source objects of 1–4 KiB
	Multipart int // source objects of 6 MiB in parts of 5 and 1 MiB, spread over the keyspace
	Same      int // of the small ones, how many the destination already holds unchanged
	Changed   int // of the small ones, how many the destination holds with other content
}

// OddKeys are keys that must survive every hop (part lines, reports,
// Hadoop's key/value split): TAB, newline, CR, backslash, \N, '+', space,
// quotes, unicode.
var OddKeys = []string{
	"odd/tab\there", "odd/new\nline", "odd/cr\rkey", `odd/back\slash`, `odd/\N`, "odd/plus+space here",
	`odd/quote'single`, `odd/quote"double`, "odd/日本/é.txt", "odd/emoji😀",
}

// Seed writes d's objects to srcBucket and the Same/Changed ones to each of
// dstBuckets (the same state in each), and returns the source's keys with
// their ETags.
func Seed(t testing.TB, src *s3.Client, srcBucket string, dst *s3.Client, d Dataset, dstBuckets ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	type obj struct {
		key  string
		body []byte
	}
	var objs []obj
	for i := range d.Small {
		key := fmt.Sprintf("data/%03d/obj-%05d", i%97, i)
		if i < len(OddKeys) {
			key = OddKeys[i]
		}
		objs = append(objs, obj{key, s3test.RandomBytes(int64(1024+(i*37)%3072), uint64(i+1))})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i, o := range objs {
		g.Go(func() error {
			if _, err := src.PutObject(gctx, &s3.PutObjectInput{Bucket: &srcBucket, Key: aws.String(o.key),
				Body: bytes.NewReader(o.body), ContentType: aws.String("application/x-fleettest")}); err != nil {
				return fmt.Errorf("put s3://%s/%q: %w", srcBucket, o.key, err)
			}
			body := o.body
			switch {
			case i >= d.Small-d.Same:
			case i >= d.Small-d.Same-d.Changed:
				body = append([]byte("changed "), o.body...)
			default:
				return nil
			}
			for _, b := range dstBuckets {
				if _, err := dst.PutObject(gctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(o.key),
					Body: bytes.NewReader(body), ContentType: aws.String("application/x-fleettest")}); err != nil {
					return fmt.Errorf("put s3://%s/%q: %w", b, o.key, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for i := range d.Multipart {
		s3test.PutMultipart(t, src, srcBucket, fmt.Sprintf("data/%03d/mp-%02d", (i*31)%97, i), []int64{5 << 20, 1 << 20})
	}
	return Listing(t, src, srcBucket)
}

// Listing returns every key of bucket with its ETag (quotes removed).
func Listing(t testing.TB, c *s3.Client, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, EncodingType: types.EncodingTypeUrl})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list s3://%s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			key, err := url.QueryUnescape(aws.ToString(o.Key))
			if err != nil {
				t.Fatalf("list s3://%s: bad url-encoded key %q: %v", bucket, aws.ToString(o.Key), err)
			}
			out[key] = strings.Trim(aws.ToString(o.ETag), `"`)
		}
	}
	return out
}

// SameObjects fails t unless dst holds exactly src's keys with src's ETags.
func SameObjects(t testing.TB, src, dst map[string]string) {
	t.Helper()
	var bad []string
	for k, e := range src {
		switch d, ok := dst[k]; {
		case !ok:
			bad = append(bad, fmt.Sprintf("missing at the destination: %q", k))
		case d != e:
			bad = append(bad, fmt.Sprintf("ETag of %q: destination %s, source %s", k, d, e))
		}
	}
	for k := range dst {
		if _, ok := src[k]; !ok {
			bad = append(bad, fmt.Sprintf("only at the destination: %q", k))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		if len(bad) > 20 {
			bad = append(bad[:20], fmt.Sprintf("... and %d more", len(bad)-20))
		}
		t.Fatalf("destination differs from the source (%d objects at the source, %d at the destination):\n%s",
			len(src), len(dst), strings.Join(bad, "\n"))
	}
}

// ReadReport parses report rows (docs/FORMAT.md section 5); any malformed
// line fails t with its line and column.
func ReadReport(t testing.TB, r io.Reader) []record.Report {
	t.Helper()
	tr := tsv.NewReader(r)
	var rows []record.Report
	for {
		f, err := tr.Read()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("report: %v", err)
		}
		var rep record.Report
		if err := record.ParseReport(f, &rep); err != nil {
			t.Fatalf("report: %v", record.AtLine(tr, err))
		}
		rows = append(rows, rep)
	}
}

// OneRowEach fails t unless rows has exactly one row per key of src, no row
// for any other key, and no failed row. It returns the count per status.
func OneRowEach(t testing.TB, rows []record.Report, src map[string]string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	status := map[string]int{}
	var bad []string
	for _, r := range rows {
		seen[r.Key]++
		status[r.Status]++
		if r.Status == record.OutcomeFailed {
			bad = append(bad, fmt.Sprintf("failed: %q: %s %s", r.Key, r.ErrorCode, r.Message))
		}
	}
	for k, n := range seen {
		if _, ok := src[k]; !ok {
			bad = append(bad, fmt.Sprintf("row for a key not at the source: %q", k))
		} else if n != 1 {
			bad = append(bad, fmt.Sprintf("%d rows for %q", n, k))
		}
	}
	for k := range src {
		if seen[k] == 0 {
			bad = append(bad, fmt.Sprintf("no row for %q", k))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		if len(bad) > 20 {
			bad = append(bad[:20], fmt.Sprintf("... and %d more", len(bad)-20))
		}
		t.Fatalf("report (%d rows, %d source objects) is not one row per object:\n%s", len(rows), len(src), strings.Join(bad, "\n"))
	}
	return status
}

// NoUploads fails t if bucket has an unfinished multipart upload.
func NoUploads(t testing.TB, c *s3.Client, bucket string) {
	t.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatalf("list multipart uploads of s3://%s: %v", bucket, err)
	}
	if n := len(out.Uploads); n > 0 {
		var keys []string
		for _, u := range out.Uploads {
			keys = append(keys, fmt.Sprintf("%q (%s)", aws.ToString(u.Key), aws.ToString(u.UploadId)))
		}
		t.Fatalf("%d orphaned multipart upload(s) in s3://%s: %s", n, bucket, strings.Join(keys, ", "))
	}
}
