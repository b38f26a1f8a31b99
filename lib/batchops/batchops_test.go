package batchops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

func TestEncodeKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"objectkey1", "objectkey1"},
		{"object key with spaces", "object%20key%20with%20spaces"},
		{"a+b", "a%2Bb"},
		{"photos/jpgs/x.jpg", "photos/jpgs/x.jpg"},
		{"comma,quote\"nl\ncr\rtab\t", "comma%2Cquote%22nl%0Acr%0Dtab%09"},
		{"日本", "%E6%97%A5%E6%9C%AC"},
		{`100%\N`, "100%25%5CN"},
		{"a~b_c-d.e", "a~b_c-d.e"},
		{"\xff", "%FF"},
	}
	for _, tt := range tests {
		got := EncodeKey(tt.key)
		if got != tt.want {
			t.Errorf("EncodeKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
		// Both decoders give the key back.
		for name, dec := range map[string]func(string) (string, error){"query": url.QueryUnescape, "path": url.PathUnescape} {
			if back, err := dec(got); err != nil || back != tt.key {
				t.Errorf("%s-decoding %q = %q, %v; want %q", name, got, back, err, tt.key)
			}
		}
	}
}

func objs(keys ...string) []record.Object {
	var os []record.Object
	for i, k := range keys {
		os = append(os, record.Object{Key: k, ETag: "e", Size: 1, VersionID: fmt.Sprintf("v%d", i), Bucket: "src"})
	}
	return os
}

func TestManifestRoundTrip(t *testing.T) {
	keys := []string{"plain", "a b+c", "日本/été", "comma,key", "tab\tnl\ncr\r", `\N`, "100%", strings.Repeat("k", 1024)}
	for _, versions := range []bool{false, true} {
		t.Run(fmt.Sprint("versions=", versions), func(t *testing.T) {
			var buf bytes.Buffer
			w := NewManifestWriter(&buf, versions, "")
			in := objs(keys...)
			in = append(in, record.Object{Key: "dm", DeleteMarker: true, VersionID: "x", Bucket: "src"})
			for i := range in {
				if err := w.Write(&in[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if w.Written != int64(len(keys)) || w.SkippedDeleteMarkers != 1 {
				t.Fatalf("written %d, skipped %d", w.Written, w.SkippedDeleteMarkers)
			}
			if n := strings.Count(buf.String(), "\n"); n != len(keys) {
				t.Fatalf("%d lines for %d keys:\n%s", n, len(keys), buf.String())
			}
			r := NewManifestReader(&buf)
			for i, k := range keys {
				e, err := r.Read()
				if err != nil {
					t.Fatal(err)
				}
				want := Entry{Bucket: "src", Key: k}
				if versions {
					want.VersionID = fmt.Sprintf("v%d", i)
				}
				if e != want {
					t.Errorf("entry %d: %+v, want %+v", i, e, want)
				}
			}
			if _, err := r.Read(); err != io.EOF {
				t.Fatalf("after the last line: %v", err)
			}
		})
	}
}

func TestManifestWriterErrors(t *testing.T) {
	tests := []struct {
		name     string
		versions bool
		bucket   string
		o        record.Object
		want     string
	}{
		{"no bucket", false, "", record.Object{Key: "k"}, "has no bucket"},
		{"default bucket", false, "dflt", record.Object{Key: "k"}, ""},
		{"no version", true, "", record.Object{Key: "k", Bucket: "b"}, "has no version id"},
		{"version with comma", true, "", record.Object{Key: "k", Bucket: "b", VersionID: "a,b"}, "cannot be written"},
		{"null version", true, "", record.Object{Key: "k", Bucket: "b", VersionID: "null"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewManifestWriter(&buf, tt.versions, tt.bucket)
			err := w.Write(&tt.o)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// The two example manifests of the S3 User Guide read as documented.
func TestReadDocumentedManifests(t *testing.T) {
	for _, f := range []string{"manifest.csv", "manifest-versions.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		r := NewManifestReader(bytes.NewReader(b))
		var es []Entry
		for {
			e, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			es = append(es, e)
		}
		if len(es) != 6 || es[5].Key != "object key with spaces" || es[3].Key != "photos/jpgs/objectkey4" {
			t.Fatalf("%s: %+v", f, es)
		}
		if hasV := es[0].VersionID != ""; hasV != strings.Contains(f, "versions") {
			t.Fatalf("%s: version ids %+v", f, es)
		}
	}
}

func TestManifestReaderErrors(t *testing.T) {
	for in, want := range map[string]string{
		"b\n":           "line 1: want bucket,key[,versionId], got 1 fields",
		"b,k,v,x\n":     "got 4 fields",
		"b,%zz\n":       "line 1: key \"%zz\": bad URL encoding",
		",k\n":          "empty bucket or key",
		"b,k\nb,\"x\n":  "extraneous or missing",
		"b,k\nb,k,v\nb": "line 3",
	} {
		r := NewManifestReader(strings.NewReader(in))
		var err error
		for err == nil {
			_, err = r.Read()
		}
		if err == io.EOF || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func readTasks(t testing.TB, r *ReportReader) []Task {
	t.Helper()
	var ts []Task
	for {
		task, err := r.Read()
		if err == io.EOF {
			return ts
		}
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, *task)
	}
}

func TestReportReader(t *testing.T) {
	f, err := os.Open("testdata/report/failed.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ts := readTasks(t, NewReportReader(f))
	want := []Task{
		{"awsexamplebucket1", "image_14975", "", "failed", "PermanentFailure", 200, `Lambda returned function error: {"errorMessage":"2019-04-05T17:35:21.155Z 2845ca0d-38d9-4c4b-abcf-379dc749c452 Task timed out after 3.00 seconds"}`},
		{"awsexamplebucket1", "image_15897", "", "failed", "PermanentFailure", 200, `Lambda returned function error: {"errorMessage":"2019-04-05T17:35:29.610Z 2d0a330b-de9b-425f-b511-29232fde5fe4 Task timed out after 3.00 seconds"}`},
		{"awsexamplebucket1", "photos/red flower+1.jpg", "PZ9ibn9D5lP6p298B7S9_ceqx1n5EJ0p", "failed", "AccessDenied", 403, "Access Denied"},
		// Columns in ReportSchema order (ErrorCode, HTTPStatusCode).
		{"awsexamplebucket1", "日本/a b", "", "failed", "SlowDown", 503, "Please reduce your request rate, then retry."},
	}
	if len(ts) != len(want) {
		t.Fatalf("%d tasks: %+v", len(ts), ts)
	}
	for i := range ts {
		if ts[i] != want[i] || !ts[i].Failed() {
			t.Errorf("task %d:\n got %+v\nwant %+v", i, ts[i], want[i])
		}
	}
}

func TestReportReaderRows(t *testing.T) {
	tests := []struct {
		name, row string
		raw       bool
		want      Task
		err       string
	}{
		{"four columns", "b,k,,succeeded", false, Task{Bucket: "b", Key: "k", Status: "succeeded"}, ""},
		{"raw key", "b,100%,,failed,404,NoSuchKey,Not Found", true, Task{"b", "100%", "", "failed", "NoSuchKey", 404, "Not Found"}, ""},
		{"unquoted commas in message", "b,k,,failed,500,InternalError,a,b,c", false, Task{"b", "k", "", "failed", "InternalError", 500, "a,b,c"}, ""},
		{"bad key", "b,100%,,failed", false, Task{}, "bad URL encoding"},
		{"short", "b,k,v", false, Task{}, "want at least"},
		{"bad status", "b,k,,failed,x,y", false, Task{}, "HTTP status \"y\""},
		{"empty key", "b,,,failed", false, Task{}, "empty bucket or key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReportReader(strings.NewReader(tt.row + "\n"))
			r.RawKeys = tt.raw
			task, err := r.Read()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "line 1") {
					t.Fatalf("err = %v, want %q at line 1", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *task != tt.want {
				t.Fatalf("got %+v\nwant %+v", *task, tt.want)
			}
		})
	}
}

type dirFetcher string

func (d dirFetcher) Open(_ context.Context, bucket, key string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(string(d), filepath.Base(key)))
}

func TestReadResults(t *testing.T) {
	tests := []struct {
		manifest   string
		failedOnly bool
		want       int
		err        string
	}{
		{"manifest.json", true, 4, ""},
		{"manifest.json", false, 6, ""},
		{"manifest-bad-md5.json", true, 0, "s3://my-job-reports/job-f8fb9d89/results/failed.csv: MD5"},
		{"manifest-bad-md5.json", false, 2, "failed.csv: MD5"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.manifest, tt.failedOnly), func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata/report", tt.manifest))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := ParseReportManifest(f)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			err = ReadResults(context.Background(), dirFetcher("testdata/report"), m, tt.failedOnly, false, func(task *Task) error {
				if tt.failedOnly && !task.Failed() {
					t.Errorf("failedOnly gave %+v", task)
				}
				n++
				return nil
			})
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if n != tt.want {
				t.Fatalf("%d tasks, want %d", n, tt.want)
			}
		})
	}
}

func TestParseReportManifestErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"Format":"Report_CSV_20180820","Results":[{"Bucket":"b","Key":"k","MD5Checksum":"x"}]}`: "not 32 hex digits",
		`{"Format":"Report_JSON","Results":[]}`:                                                   "not supported",
		`{"Format":"Report_CSV_20180820","Results":[{"Key":"k"}]}`:                                "no Bucket or Key",
		`[`: "completion report manifest",
	} {
		if _, err := ParseReportManifest(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}

// Resolve against a real (MinIO) versioned bucket.
func TestResolveIntegration(t *testing.T) {
	srv := s3test.A(t)
	c := srv.Client(t)
	bucket := srv.Bucket(t, true)
	ctx := context.Background()
	key := "re drive/a+b 日本"
	v1 := s3test.Put(t, c, bucket, key, []byte("first"))
	v2 := s3test.Put(t, c, bucket, key, []byte("second version"))

	var o record.Object
	if err := Resolve(ctx, c, bucket, key, "", &o); err != nil {
		t.Fatal(err)
	}
	if o.Key != key || o.Bucket != bucket || o.Size != 14 || o.ETag != strings.Trim(*v2.ETag, `"`) || o.VersionID != "" || o.MTime.IsZero() || o.StorageClass != "STANDARD" {
		t.Fatalf("current version: %+v", o)
	}
	if err := Resolve(ctx, c, bucket, key, *v1.VersionId, &o); err != nil {
		t.Fatal(err)
	}
	if o.Size != 5 || o.ETag != strings.Trim(*v1.ETag, `"`) || o.VersionID != *v1.VersionId {
		t.Fatalf("old version: %+v", o)
	}
	if err := Resolve(ctx, c, bucket, "missing", "", &o); !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), "s3://"+bucket+"/missing") {
		t.Fatalf("missing key: %v", err)
	}
	// Delete the key: the current version is now a delete marker.
	if _, err := c.DeleteObject(ctx, deleteInput(bucket, key)); err != nil {
		t.Fatal(err)
	}
	if err := Resolve(ctx, c, bucket, key, "", &o); !errors.Is(err, ErrGone) {
		t.Fatalf("deleted key: %v", err)
	}
	// The old version is still there and resolvable.
	if err := Resolve(ctx, c, bucket, key, *v1.VersionId, &o); err != nil || o.Size != 5 {
		t.Fatalf("old version after delete: %+v, %v", o, err)
	}
}

func deleteInput(bucket, key string) *s3.DeleteObjectInput {
	return &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
}
