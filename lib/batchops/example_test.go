package batchops_test

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/s3pipe/s3pipe/lib/batchops"
	"github.com/s3pipe/s3pipe/lib/record"
)

// Write a Batch Operations manifest with version ids from object records.
func ExampleManifestWriter() {
	w := batchops.NewManifestWriter(os.Stdout, true, "")
	for _, o := range []record.Object{
		{Key: "photos/red flower+1.jpg", VersionID: "PZ9ibn9D5lP6p298B7S9_ceqx1n5EJ0p", Bucket: "src-bucket"},
		{Key: "日本/a,b", VersionID: "null", Bucket: "src-bucket"},
		{Key: "gone", VersionID: "x", DeleteMarker: true, Bucket: "src-bucket"},
	} {
		if err := w.Write(&o); err != nil {
			fmt.Println(err)
		}
	}
	err := w.Flush()
	fmt.Printf("err=%v written=%d skipped delete markers=%d\n", err, w.Written, w.SkippedDeleteMarkers)
	// Output:
	// src-bucket,photos/red%20flower%2B1.jpg,PZ9ibn9D5lP6p298B7S9_ceqx1n5EJ0p
	// src-bucket,%E6%97%A5%E6%9C%AC/a%2Cb,null
	// err=<nil> written=2 skipped delete markers=1
}

// Read the failed tasks of a completion report.
func ExampleReportReader() {
	f, err := os.Open("testdata/report/failed.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	r := batchops.NewReportReader(f)
	for {
		t, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if t.Failed() {
			fmt.Printf("s3://%s/%s version=%q %d %s: %.30s\n", t.Bucket, t.Key, t.VersionID, t.HTTPStatus, t.ErrorCode, strings.TrimSpace(t.Message))
		}
	}
	// Output:
	// s3://awsexamplebucket1/image_14975 version="" 200 PermanentFailure: Lambda returned function error
	// s3://awsexamplebucket1/image_15897 version="" 200 PermanentFailure: Lambda returned function error
	// s3://awsexamplebucket1/photos/red flower+1.jpg version="PZ9ibn9D5lP6p298B7S9_ceqx1n5EJ0p" 403 AccessDenied: Access Denied
	// s3://awsexamplebucket1/日本/a b version="" 503 SlowDown: Please reduce your request rat
}
